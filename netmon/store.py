"""The SQLite store: inventory, latest state, events. WAL mode, one transaction per write.

What lives here is what Prometheus is bad at: the inventory, the latest
state of every device and interface (with the running counter totals the
exporter publishes), and the event log. Every write is one transaction: a
crash mid-poll leaves the previous committed state intact.

Schema changes go through :data:`MIGRATIONS`, applied in order and recorded
in ``schema_migrations``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import sqlite_utils

from collectors.observations import (
    ADMIN_STATUS,
    OPER_STATUS,
    HardwareItem,
    InterfaceSample,
    Neighbor,
    OpticReading,
    SystemInfo,
)
from inventory.model import Device, Inventory
from netmon import radius_sessions, usage, wifi
from netmon.counters import CounterSample, counter_delta, rebooted

COUNTERS = (
    "in_octets",
    "out_octets",
    "in_ucast_pkts",
    "out_ucast_pkts",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
)
# IF-MIB defines errors and discards only as Counter32, whatever the octet counters are.
ALWAYS_32 = {"in_errors", "out_errors", "in_discards", "out_discards"}

# Raw device values are TEXT: a Counter64 can exceed SQLite's signed 64-bit INTEGER
# (some agents answer 2**64-1 for counters they do not keep).
_COUNTER_COLUMNS = ",\n".join(f"    raw_{c} TEXT,\n    total_{c} INTEGER NOT NULL DEFAULT 0" for c in COUNTERS)
# An interface must be missing from this many successful polls in a row before it is
# removed: a walk cut short by a booting agent must not erase interfaces and their totals.
REMOVE_AFTER_MISSING = 3
# A neighbour not seen again for this long is forgotten (its row keeps the link's history until then).
LINK_HISTORY = 7 * 86400.0
# A poll that started at most this long before the stored one is a late, concurrent poll (ignored);
# further back, the wall clock was stepped back and the poll is recorded.
STALE_WINDOW = 300.0
# The speed bound for counters of an interface whose speed is unknown (ifHighSpeed 0): 1 Tb/s.
UNKNOWN_SPEED_BPS = 10**12

MIGRATIONS: list[str] = [
    # 1: inventory, latest state, events, collector health
    f"""
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lat REAL,
    lon REAL
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE COLLATE NOCASE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 161,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    role TEXT NOT NULL CHECK (role IN ('switch', 'wlc', 'router', 'ap')),
    snmp_profile TEXT,
    ssh_profile TEXT,
    interval INTEGER,
    snmp_timeout REAL,
    snmp_retries INTEGER
);
CREATE TABLE device_state (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    up INTEGER,
    last_poll REAL,
    last_success REAL,
    sys_descr TEXT,
    sys_object_id TEXT,
    sys_name TEXT,
    uptime_ticks INTEGER,
    uptime_at REAL,
    last_error_reason TEXT
);
CREATE TABLE interfaces (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ifindex INTEGER NOT NULL,
    name TEXT NOT NULL,
    descr TEXT NOT NULL DEFAULT '',
    alias TEXT NOT NULL DEFAULT '',
    type INTEGER,
    speed_bps INTEGER,
    admin_status INTEGER,
    oper_status INTEGER,
    counter_bits INTEGER NOT NULL,
    sampled_at REAL NOT NULL,
    uptime_ticks INTEGER,
    discontinuity_ticks INTEGER,
    missing_polls INTEGER NOT NULL DEFAULT 0,
{_COUNTER_COLUMNS},
    PRIMARY KEY (device_id, ifindex)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    hostname TEXT NOT NULL,
    kind TEXT NOT NULL,
    ifindex INTEGER,
    ifname TEXT,
    old TEXT,
    new TEXT,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_device ON events(device_id, ts);
CREATE TABLE collector_status (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    collector TEXT NOT NULL,
    last_run REAL NOT NULL,
    duration REAL NOT NULL,
    last_success REAL,
    last_error_reason TEXT,
    PRIMARY KEY (device_id, collector)
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES ('inventory_generation', '0');
CREATE TABLE snmp_drops (
    reason TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE collector_errors (
    collector TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (collector, reason)
);
""",
    # 2: transceiver DOM readings (latest per device, port, lane and sensor kind), hardware inventory
    """
ALTER TABLE devices ADD COLUMN platform TEXT;
ALTER TABLE device_state ADD COLUMN chassis_id TEXT;
ALTER TABLE devices ADD COLUMN ssh_port INTEGER NOT NULL DEFAULT 22;
CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    a_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    a_port TEXT NOT NULL,
    protocol TEXT NOT NULL,
    b_name TEXT NOT NULL,
    b_port TEXT NOT NULL,
    b_device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    b_chassis_id TEXT NOT NULL DEFAULT '',
    b_address TEXT NOT NULL DEFAULT '',
    b_platform TEXT NOT NULL DEFAULT '',
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    UNIQUE (a_device_id, a_port, protocol, b_name, b_port)
);
CREATE TABLE fibre_links (
    a_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    a_port TEXT NOT NULL,
    b_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    b_port TEXT NOT NULL,
    length_km REAL,
    PRIMARY KEY (a_device_id, a_port)
);
CREATE TABLE hardware (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entity_index INTEGER,
    class TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    firmware TEXT NOT NULL DEFAULT '',
    software TEXT NOT NULL DEFAULT '',
    hardware_rev TEXT NOT NULL DEFAULT '',
    contained_in INTEGER,
    seen_at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'snmp',
    PRIMARY KEY (device_id, position)
);
CREATE TABLE optics (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ifname TEXT NOT NULL,
    ifindex INTEGER,
    lane INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value REAL NOT NULL,
    low_alarm REAL,
    low_warning REAL,
    high_warning REAL,
    high_alarm REAL,
    sensor TEXT NOT NULL DEFAULT '',
    sampled_at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'snmp',
    PRIMARY KEY (device_id, ifname, lane, kind)
);
""",
    # 3: Wi-Fi: access points, per-AP/SSID client samples, client sessions (pseudonymised)
    wifi.MIGRATION,
    # 4: the explicit AP-to-site mapping (inventory/ap_sites.py), imported like the inventory
    wifi.AP_SITE_MAP_MIGRATION,
    # 5: RADIUS accounting sessions, packet counts per type and result, last packet per NAS, F-Ticks events
    radius_sessions.MIGRATION,
    # 6: daily Wi-Fi usage aggregates for the planners' reports (kept when raw sessions are pruned)
    usage.MIGRATION,
]


@dataclass(frozen=True, slots=True)
class CollectorRun:
    collector: str
    duration: float
    error_reason: str | None = None  # None: success


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device as the scheduler needs it: inventory plus its store id."""

    id: int
    hostname: str
    address: str
    port: int
    site: str
    role: str
    snmp_profile: str | None
    ssh_profile: str | None
    interval: int | None
    snmp_timeout: float | None = None
    snmp_retries: int | None = None
    platform: str | None = None
    ssh_port: int = 22


def _max_rate(counter: str, speed_bps: int | None) -> float:
    speed_bps = speed_bps or UNKNOWN_SPEED_BPS
    if counter.endswith("octets"):
        return speed_bps / 8
    # The smallest Ethernet frame plus preamble and gap is 84 octets on the wire.
    return speed_bps / 8 / 84


class Store:
    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One writer thread at a time (the scheduler hands writes to a single worker thread).
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable at every checkpoint and never corrupts in WAL mode; a power cut loses
            # at most the last transactions, never committed-and-checkpointed ones.
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.row_factory = sqlite3.Row
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        if not readonly:
            self.migrate()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- schema ---------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.db["schema_migrations"].exists():
            return 0
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def migrate(self) -> list[int]:
        applied = []
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            current = self.schema_version()
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
                applied.append(version)
        return applied

    # -- inventory ------------------------------------------------------------

    def import_inventory(self, inv: Inventory, prune: bool = False) -> dict[str, int]:
        """Add and update the sites and devices of ``inv``, in one transaction.

        Devices keep their id (and so their state and history) across imports.
        Devices and sites the file no longer declares are removed, with their
        state, only with ``prune``: a truncated or half-edited file must not
        silently erase the network's history. Running schedulers notice the
        change through the inventory generation.
        """
        with self.transaction() as conn:
            for s in inv.sites:
                conn.execute(
                    "INSERT INTO sites (name, kind, address, lat, lon) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, address=excluded.address, "
                    "lat=excluded.lat, lon=excluded.lon",
                    (s.name, s.kind, s.address, s.lat, s.lon),
                )
            site_ids = {r["name"]: r["id"] for r in conn.execute("SELECT id, name FROM sites")}
            for d in inv.devices:
                conn.execute(
                    "INSERT INTO devices (hostname, address, port, site_id, role, snmp_profile, ssh_profile, interval, "
                    "snmp_timeout, snmp_retries, platform, ssh_port) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(hostname) DO UPDATE SET "
                    "address=excluded.address, port=excluded.port, site_id=excluded.site_id, role=excluded.role, "
                    "snmp_profile=excluded.snmp_profile, ssh_profile=excluded.ssh_profile, interval=excluded.interval, "
                    "snmp_timeout=excluded.snmp_timeout, snmp_retries=excluded.snmp_retries, "
                    "platform=excluded.platform, ssh_port=excluded.ssh_port",
                    (
                        d.hostname,
                        d.address,
                        d.port,
                        site_ids[d.site],
                        d.role,
                        d.snmp_profile,
                        d.ssh_profile,
                        d.interval,
                        d.timeout,
                        d.retries,
                        d.platform,
                        d.ssh_port,
                    ),
                )
            keep_devices = [d.hostname.lower() for d in inv.devices]
            keep_sites = [s.name for s in inv.sites]
            others = f"FROM devices WHERE lower(hostname) NOT IN ({_marks(keep_devices)})"
            undeclared = conn.execute(f"SELECT count(*) {others}", keep_devices).fetchone()[0]
            removed_devices = removed_sites = 0
            if prune:
                removed_devices = conn.execute(f"DELETE {others}", keep_devices).rowcount
                removed_sites = conn.execute(
                    f"DELETE FROM sites WHERE name NOT IN ({_marks(keep_sites)}) "
                    "AND id NOT IN (SELECT site_id FROM devices)",
                    keep_sites,
                ).rowcount
            ids = {r["key"]: r["id"] for r in conn.execute("SELECT id, lower(hostname) AS key FROM devices")}
            conn.execute("DELETE FROM fibre_links")
            for f in inv.links:
                conn.execute(
                    "INSERT INTO fibre_links (a_device_id, a_port, b_device_id, b_port, length_km) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (ids[f.a.lower()], f.a_port, ids[f.b.lower()], f.b_port, f.length_km),
                )
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'inventory_generation'")
        return {
            "sites": len(inv.sites),
            "devices": len(inv.devices),
            "removed_sites": removed_sites,
            "removed_devices": removed_devices,
            "kept_undeclared_devices": 0 if prune else undeclared,
        }

    def add_devices(self, devices: list[Device]) -> int:
        """Add devices (discovered ones) that are not there yet; returns how many were added."""
        added = 0
        with self.transaction() as conn:
            sites = {r["name"]: r["id"] for r in conn.execute("SELECT id, name FROM sites")}
            for d in devices:
                added += conn.execute(
                    "INSERT OR IGNORE INTO devices (hostname, address, port, site_id, role, snmp_profile) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (d.hostname, d.address, d.port, sites[d.site], d.role, d.snmp_profile),
                ).rowcount
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'inventory_generation'")
        return added

    def inventory_generation(self) -> int:
        """Bumped by every import; the scheduler reloads its devices when it changes."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'inventory_generation'").fetchone()[0])

    def devices(self, hostname: str | None = None) -> list[DeviceRow]:
        sql = (
            "SELECT d.id, d.hostname, d.address, d.port, s.name AS site, d.role, d.snmp_profile, d.ssh_profile, "
            "d.interval, d.snmp_timeout, d.snmp_retries, d.platform, d.ssh_port "
            "FROM devices d JOIN sites s ON s.id = d.site_id"
        )
        args: tuple = ()
        if hostname is not None:
            sql += " WHERE d.hostname = ?"
            args = (hostname,)
        return [DeviceRow(**dict(r)) for r in self.conn.execute(sql + " ORDER BY d.hostname", args)]

    def access_points(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT a.*, d.hostname AS controller, s.name AS site FROM access_points a "
                "JOIN devices d ON d.id = a.controller_id LEFT JOIN sites s ON s.id = a.site_id "
                "WHERE a.status != 'gone' ORDER BY d.hostname, a.name"
            )
        ]

    def radios(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT r.*, d.hostname AS controller, a.name AS ap, s.name AS site FROM ap_radios r "
                "JOIN devices d ON d.id = r.controller_id "
                "LEFT JOIN access_points a ON a.controller_id = r.controller_id AND a.mac = r.ap_mac "
                "LEFT JOIN sites s ON s.id = a.site_id ORDER BY d.hostname, a.name, r.slot"
            )
        ]

    def latest_wifi_samples(self) -> list[dict]:
        """Each controller's last poll: clients per AP and SSID, with the AP's site."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT w.ap_mac, w.ssid, w.clients, d.hostname AS controller, a.name AS ap, s.name AS site "
                "FROM wifi_samples w JOIN devices d ON d.id = w.controller_id "
                "LEFT JOIN access_points a ON a.controller_id = w.controller_id AND a.mac = w.ap_mac "
                "LEFT JOIN sites s ON s.id = a.site_id "
                "WHERE w.ts = (SELECT max(ts) FROM wifi_samples x WHERE x.controller_id = w.controller_id) "
                "AND w.ssid != ''"
            )
        ]

    def import_ap_sites(self, mapping) -> dict[str, int]:
        """Replace the explicit AP-to-site mapping (an ``inventory.ap_sites.ApSiteMap``), in one transaction.

        The APs already known move to their mapped site at once; an AP dropped
        from the mapping keeps its site until its controller's next poll
        places it by the rules.
        """
        with self.transaction() as conn:
            ids = {r["name"]: r["id"] for r in conn.execute("SELECT id, name FROM sites")}
            conn.execute("DELETE FROM ap_site_map")
            conn.executemany(
                "INSERT INTO ap_site_map (kind, key, site_id) VALUES (?, ?, ?)",
                [("mac", k, ids[s]) for k, s in mapping.by_mac.items()]
                + [("name", k, ids[s]) for k, s in mapping.by_name.items()],
            )
            moved = conn.execute(
                "UPDATE access_points SET site_id = coalesce("
                " (SELECT m.site_id FROM ap_site_map m WHERE m.kind = 'mac' AND m.key = access_points.mac),"
                " (SELECT m.site_id FROM ap_site_map m WHERE m.kind = 'name' AND m.key = lower(access_points.name)))"
                " WHERE rowid IN (SELECT a.rowid FROM access_points a JOIN ap_site_map m ON"
                " (m.kind = 'mac' AND m.key = a.mac) OR (m.kind = 'name' AND m.key = lower(a.name)))"
            ).rowcount
        return {"mappings": len(mapping), "aps_placed": moved}

    def site_ids(self) -> dict[str, int]:
        return {r["name"]: r["id"] for r in self.conn.execute("SELECT id, name FROM sites")}

    def sites(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT s.name, s.kind, s.address, s.lat, s.lon, count(d.id) AS devices "
                "FROM sites s LEFT JOIN devices d ON d.site_id = s.id GROUP BY s.id ORDER BY s.name"
            )
        ]

    # -- polls ----------------------------------------------------------------

    def record_poll(
        self,
        device: DeviceRow,
        started: float,
        system: SystemInfo | None,
        interfaces: list[InterfaceSample] | None,
        runs: list[CollectorRun],
        dropped: dict[str, int] | None = None,
        optics: list[OpticReading] | None = None,
        hardware: list[HardwareItem] | None = None,
        read_at: float | None = None,
        neighbors: list[Neighbor] | None = None,
        chassis_id: str | None = None,
    ) -> list[dict]:
        """Store one device poll atomically; return the events it produced.

        ``dropped`` counts SNMP packets the engine refused meanwhile (malformed,
        forged, late), by reason; they are added to the running totals.
        ``read_at`` is when sysUpTime was answered (default: ``started``): uptime
        and counters are compared against it, so a device that answered late
        (retries, a slow agent) is not mistaken for one that rebooted.
        """
        events: list[dict] = []
        up = system is not None
        with self.transaction() as conn:
            prev = conn.execute("SELECT * FROM device_state WHERE device_id = ?", (device.id,)).fetchone()
            read_at = started if read_at is None else read_at
            if prev is not None and prev["last_poll"] is not None and 0 < prev["last_poll"] - started < STALE_WINDOW:
                # An older poll finishing after a newer one (say `netmon poll` beside `netmon run`):
                # its state and counters are history already; storing them would rewind the baselines.
                # (Further back than the window, the wall clock was stepped back: carry on.)
                system, interfaces = None, None
                up = None
            else:
                events.extend(_device_events(device, read_at, prev, system, runs))
            if up is None:
                pass
            elif up:
                conn.execute(
                    "INSERT INTO device_state (device_id, up, last_poll, last_success, sys_descr, sys_object_id, "
                    "sys_name, uptime_ticks, uptime_at, last_error_reason) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, NULL) "
                    "ON CONFLICT(device_id) DO UPDATE SET up=1, last_poll=excluded.last_poll, "
                    "last_success=excluded.last_success, sys_descr=excluded.sys_descr, "
                    "sys_object_id=excluded.sys_object_id, sys_name=excluded.sys_name, "
                    "uptime_ticks=excluded.uptime_ticks, uptime_at=excluded.uptime_at, last_error_reason=NULL",
                    (
                        device.id,
                        started,
                        started,
                        system.descr,
                        system.object_id,
                        system.name,
                        system.uptime_ticks,
                        read_at,
                    ),
                )
            else:
                reason = next((r.error_reason for r in runs if r.error_reason), "unknown")
                conn.execute(
                    "INSERT INTO device_state (device_id, up, last_poll, last_error_reason) VALUES (?, 0, ?, ?) "
                    "ON CONFLICT(device_id) DO UPDATE SET up=0, last_poll=excluded.last_poll, "
                    "last_error_reason=excluded.last_error_reason",
                    (device.id, started, reason),
                )
            if interfaces is not None:
                uptime = system.uptime_ticks if system else None
                events.extend(self._record_interfaces(conn, device, read_at, uptime, interfaces))
            if optics is not None and up:
                self._record_optics(conn, device, started, optics)
            if hardware is not None and up:
                self._record_hardware(conn, device, started, hardware)
            if chassis_id and up:
                conn.execute("UPDATE device_state SET chassis_id = ? WHERE device_id = ?", (chassis_id, device.id))
            if neighbors is not None and up:
                self._record_neighbors(conn, device, started, neighbors)
            _record_runs(conn, device, started, runs, status=up is not None)
            for reason, count in (dropped or {}).items():
                conn.execute(
                    "INSERT INTO snmp_drops (reason, count) VALUES (?, ?) "
                    "ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
                    (reason, count),
                )
            for e in events:
                conn.execute(
                    "INSERT INTO events (ts, device_id, hostname, kind, ifindex, ifname, old, new, message) "
                    "VALUES (:ts, :device_id, :hostname, :kind, :ifindex, :ifname, :old, :new, :message)",
                    e,
                )
        return events

    @staticmethod
    def _record_optics(conn, device: DeviceRow, at: float, readings: list[OpticReading], source: str = "snmp") -> None:
        """The device's optics are exactly these now: a transceiver pulled out disappears.

        SNMP is the better source (it has thresholds); the CLI's readings are kept only
        for a device whose SNMP gives none.
        """
        if not _take_over(conn, "optics", device, source, bool(readings)):
            return
        for r in readings:
            if r.ifname is None:
                continue
            t = r.thresholds
            conn.execute(
                "INSERT OR REPLACE INTO optics (device_id, ifname, ifindex, lane, kind, value, low_alarm, low_warning, "
                "high_warning, high_alarm, sensor, sampled_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device.id, r.ifname, r.ifindex, r.lane, r.kind, r.value, t.get("low_alarm"), t.get("low_warning"),
                 t.get("high_warning"), t.get("high_alarm"), r.sensor, at, source),
            )  # fmt: skip

    @staticmethod
    def _record_neighbors(conn, device: DeviceRow, at: float, neighbors: list[Neighbor]) -> None:
        """Upsert what LLDP/CDP see now; matched to inventory devices by chassis id, name, then management address.

        Rows not seen again keep their last_seen (the link's history) until LINK_HISTORY passes.
        """
        known = {r["key"]: r["id"] for r in conn.execute("SELECT id, lower(hostname) AS key FROM devices")}
        by_address = {r["address"]: r["id"] for r in conn.execute("SELECT id, address FROM devices")}
        by_chassis = {
            r["chassis_id"].lower(): r["device_id"]
            for r in conn.execute("SELECT device_id, chassis_id FROM device_state WHERE chassis_id IS NOT NULL")
        }
        ports: dict[int, list[str]] = {}
        for r in conn.execute("SELECT device_id, name FROM interfaces"):
            ports.setdefault(r["device_id"], []).append(r["name"])
        for n in neighbors:
            if not n.remote_port.strip() or not (n.remote_name.strip() or n.remote_chassis_id or n.remote_address):
                continue  # nothing to tie the far end to: a row of it would only be a phantom link
            name = n.remote_name.strip().lower()
            b_id = (
                by_chassis.get(n.remote_chassis_id.lower())
                or known.get(name)
                or known.get(name.split(".", 1)[0])
                or by_address.get(n.remote_address)
            )
            # CDP says TenGigabitEthernet1/1/1 where LLDP and ifName say Te1/1/1: one name per port.
            n = replace(
                n,
                local_port=port_name(n.local_port, ports.get(device.id, ())),
                remote_port=port_name(n.remote_port, ports.get(b_id, ())),
            )
            conn.execute(
                "INSERT INTO links (a_device_id, a_port, protocol, b_name, b_port, b_device_id, b_chassis_id, "
                "b_address, b_platform, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(a_device_id, a_port, protocol, b_name, b_port) DO UPDATE SET "
                "b_device_id=excluded.b_device_id, b_chassis_id=excluded.b_chassis_id, b_address=excluded.b_address, "
                "b_platform=excluded.b_platform, last_seen=excluded.last_seen",
                (device.id, n.local_port, n.protocol, n.remote_name, n.remote_port, b_id, n.remote_chassis_id,
                 n.remote_address, n.remote_platform, at, at),
            )  # fmt: skip
        conn.execute("DELETE FROM links WHERE a_device_id = ? AND last_seen < ?", (device.id, at - LINK_HISTORY))

    def links(self) -> list[dict]:
        """Links seen by LLDP/CDP, with both ends' sites, oper status and declared fibre length."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT l.*, a.hostname AS a_device, sa.name AS a_site, b.hostname AS b_device, sb.name AS b_site, "
                "ia.oper_status AS a_oper, ib.oper_status AS b_oper, "
                "coalesce(f1.length_km, f2.length_km) AS length_km "
                "FROM links l JOIN devices a ON a.id = l.a_device_id JOIN sites sa ON sa.id = a.site_id "
                "LEFT JOIN devices b ON b.id = l.b_device_id LEFT JOIN sites sb ON sb.id = b.site_id "
                "LEFT JOIN interfaces ia ON ia.device_id = l.a_device_id AND ia.name = l.a_port "
                "AND ia.missing_polls = 0 "
                "LEFT JOIN interfaces ib ON ib.device_id = l.b_device_id AND ib.name = l.b_port "
                "AND ib.missing_polls = 0 "
                "LEFT JOIN fibre_links f1 ON f1.a_device_id = l.a_device_id AND f1.a_port = l.a_port "
                "LEFT JOIN fibre_links f2 ON f2.b_device_id = l.a_device_id AND f2.b_port = l.a_port "
                "ORDER BY a.hostname, l.a_port, l.protocol"
            )
        ]

    @staticmethod
    def _record_hardware(conn, device: DeviceRow, at: float, items: list[HardwareItem], source: str = "snmp") -> None:
        if not _take_over(conn, "hardware", device, source, bool(items)):
            return
        for position, h in enumerate(items):
            conn.execute(
                "INSERT INTO hardware (device_id, position, entity_index, class, name, description, model, serial, "
                "firmware, software, hardware_rev, contained_in, seen_at, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device.id, position, h.index, h.klass, h.name, h.description, h.model, h.serial, h.firmware,
                 h.software, h.hardware_rev, h.contained_in, at, source),
            )  # fmt: skip

    def hardware(self, site: str | None = None) -> list[dict]:
        sql = (
            "SELECT h.*, d.hostname, s.name AS site FROM hardware h JOIN devices d ON d.id = h.device_id "
            "JOIN sites s ON s.id = d.site_id"
        )
        args: tuple = ()
        if site is not None:
            sql += " WHERE s.name = ?"
            args = (site,)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY s.name, d.hostname, h.position", args)]

    def optic_states(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT o.*, d.hostname, s.name AS site FROM optics o JOIN devices d ON d.id = o.device_id "
                "JOIN sites s ON s.id = d.site_id ORDER BY d.hostname, o.ifname, o.lane, o.kind"
            )
        ]

    def record_cli(
        self,
        device: DeviceRow,
        started: float,
        runs: list[CollectorRun],
        hardware: list[HardwareItem] | None = None,
        optics: list[OpticReading] | None = None,
        neighbors: list[Neighbor] | None = None,
    ) -> None:
        """What the SSH collector read, in one transaction. The CLI's own uptime (minutes only) and
        up/down are not used: the SNMP poll owns the device's state."""
        with self.transaction() as conn:
            if hardware is not None:
                self._record_hardware(conn, device, started, hardware, source="cli")
            if optics is not None:
                self._record_optics(conn, device, started, optics, source="cli")
            if neighbors is not None:
                self._record_neighbors(conn, device, started, neighbors)
            _record_runs(conn, device, started, runs)

    def record_wlc(self, controller: DeviceRow, at: float, result, pseudonyms, settings, site_of) -> dict[str, int]:
        """One controller poll (see :mod:`netmon.wifi`), in one transaction."""
        with self.transaction() as conn:
            return wifi.record(conn, controller.id, at, result, pseudonyms, settings, site_of)

    # -- RADIUS accounting and F-Ticks (see netmon.radius_sessions) --------------------------

    def record_radius(self, batch, pseudonyms, settings) -> Counter:
        """One accounting listener batch in one transaction; returns (type, result) per record."""
        with self.transaction() as conn:
            return radius_sessions.record_batch(conn, batch, pseudonyms, settings)

    def close_timed_out_radius(self, now: float, default_interval: int) -> int:
        with self.transaction() as conn:
            return radius_sessions.close_timed_out(conn, now, default_interval)

    def record_fticks(self, events, pseudonyms, malformed: int = 0, dropped: int = 0) -> int:
        with self.transaction() as conn:
            return radius_sessions.record_fticks(conn, events, pseudonyms, malformed, dropped)

    def radius_sessions(self, open_only: bool = False) -> list[dict]:
        sql = "SELECT r.*, s.name AS site FROM radius_sessions r LEFT JOIN sites s ON s.id = r.site_id"
        if open_only:
            sql += " WHERE r.stop IS NULL"
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY r.start, r.id")]

    def radius_packet_counts(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT type, result, count FROM radius_packets ORDER BY 1, 2")]

    def radius_last_packets(self) -> dict[str, float]:
        return {r["nas"]: r["last_packet"] for r in self.conn.execute("SELECT nas, last_packet FROM radius_nas")}

    def radius_active(self) -> list[dict]:
        """Open sessions counted by SSID, eduroam flag and realm."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT coalesce(ssid, '') AS ssid, eduroam, realm, count(*) AS sessions FROM radius_sessions "
                "WHERE stop IS NULL GROUP BY 1, 2, 3"
            )
        ]

    def fticks_counts(self) -> dict[str, int]:
        return {r["result"]: r["count"] for r in self.conn.execute("SELECT result, count FROM fticks_counts")}

    def record_failure(self, device: DeviceRow, started: float, reason: str = "store") -> None:
        """A poll whose result could not be stored: make the device's state unknown, not stale.

        ``up`` becomes NULL, so ``netmon_device_up`` disappears for the device and its
        last-success timestamp stops advancing: the "collector stale" alert fires, which
        is the truth (netmon has a problem), instead of the device looking up forever.
        """
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO device_state (device_id, up, last_poll, last_error_reason) VALUES (?, NULL, ?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET up=NULL, last_poll=excluded.last_poll, "
                "last_error_reason=excluded.last_error_reason",
                (device.id, started, reason),
            )
            conn.execute(
                "INSERT INTO collector_errors (collector, reason, count) VALUES ('poll', ?, 1) "
                "ON CONFLICT(collector, reason) DO UPDATE SET count = count + 1",
                (reason,),
            )

    def _record_interfaces(
        self, conn, device: DeviceRow, at: float, uptime: int | None, samples: list[InterfaceSample]
    ) -> list[dict]:
        events = []
        previous = {r["ifindex"]: r for r in conn.execute("SELECT * FROM interfaces WHERE device_id = ?", (device.id,))}
        for s in samples:
            old = previous.get(s.ifindex)
            if old is not None and old["oper_status"] != s.oper_status:
                events.append(
                    _event(
                        device,
                        at,
                        "interface_oper_change",
                        ifindex=s.ifindex,
                        ifname=s.name,
                        old=OPER_STATUS.get(old["oper_status"], str(old["oper_status"])),
                        new=OPER_STATUS.get(s.oper_status, str(s.oper_status)),
                        message=f"admin {ADMIN_STATUS.get(s.admin_status, s.admin_status)}",
                    )
                )
            row = {
                "device_id": device.id,
                "ifindex": s.ifindex,
                "name": s.name,
                "descr": s.descr,
                "alias": s.alias,
                "type": s.type,
                "speed_bps": s.speed_bps,
                "admin_status": s.admin_status,
                "oper_status": s.oper_status,
                "counter_bits": s.counter_bits,
                "sampled_at": at,
                "uptime_ticks": uptime,
                "discontinuity_ticks": s.discontinuity_ticks,
            }
            for c in COUNTERS:
                raw = getattr(s, c)
                total = old[f"total_{c}"] if old is not None else 0
                old_raw = int(old[f"raw_{c}"]) if old is not None and old[f"raw_{c}"] is not None else None
                if raw is not None and old_raw is not None:
                    bits = 32 if c in ALWAYS_32 else s.counter_bits
                    if c not in ALWAYS_32 and old["counter_bits"] != s.counter_bits:
                        delta = 0  # the agent switched between HC and 32-bit counters: no common baseline
                    else:
                        delta = counter_delta(
                            CounterSample(old_raw, old["sampled_at"], old["uptime_ticks"], old["discontinuity_ticks"]),
                            CounterSample(raw, at, uptime, s.discontinuity_ticks),
                            bits,
                            _max_rate(c, s.speed_bps),
                        ).value
                    total += delta
                row[f"raw_{c}"] = None if raw is None else str(raw)
                row[f"total_{c}"] = total
            cols = list(row)
            conn.execute(
                f"INSERT OR REPLACE INTO interfaces ({', '.join(cols)}) VALUES ({_marks(cols)})",
                [row[c] for c in cols],
            )
        for ifindex in set(previous) - {s.ifindex for s in samples}:
            missing = previous[ifindex]["missing_polls"] + 1
            if missing < REMOVE_AFTER_MISSING:
                conn.execute(
                    "UPDATE interfaces SET missing_polls = ? WHERE device_id = ? AND ifindex = ?",
                    (missing, device.id, ifindex),
                )
                continue
            conn.execute("DELETE FROM interfaces WHERE device_id = ? AND ifindex = ?", (device.id, ifindex))
            events.append(_event(device, at, "interface_removed", ifindex=ifindex, ifname=previous[ifindex]["name"]))
        return events

    # -- reads for exporters and the CLI -------------------------------------

    def device_states(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT d.id, d.hostname, d.role, s.name AS site, st.up, st.last_poll, st.last_success, "
                "st.sys_descr, st.sys_object_id, st.sys_name, st.uptime_ticks, st.uptime_at, st.last_error_reason "
                "FROM devices d JOIN sites s ON s.id = d.site_id LEFT JOIN device_state st ON st.device_id = d.id "
                "ORDER BY d.hostname"
            )
        ]

    def interface_states(self, device_id: int | None = None, present_only: bool = True) -> list[dict]:
        """Latest interface rows; ``present_only`` leaves out those missing from the last poll."""
        sql = (
            "SELECT i.*, d.hostname, s.name AS site FROM interfaces i JOIN devices d ON d.id = i.device_id "
            "JOIN sites s ON s.id = d.site_id WHERE 1"
        )
        args: tuple = ()
        if present_only:
            sql += " AND i.missing_polls = 0"
        if device_id is not None:
            sql += " AND i.device_id = ?"
            args = (device_id,)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY d.hostname, i.ifindex", args)]

    def collector_states(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT c.*, d.hostname, d.interval AS device_interval, s.name AS site FROM collector_status c "
                "JOIN devices d ON d.id = c.device_id "
                "JOIN sites s ON s.id = d.site_id ORDER BY d.hostname, c.collector"
            )
        ]

    def collector_error_counts(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM collector_errors ORDER BY collector, reason")]

    def snmp_drop_counts(self) -> dict[str, int]:
        return {r["reason"]: r["count"] for r in self.conn.execute("SELECT reason, count FROM snmp_drops")}

    def events(self, limit: int = 100) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM events ORDER BY id DESC LIMIT ?", (limit,))]


def _take_over(conn, table: str, device: DeviceRow, source: str, has_rows: bool) -> bool:
    """Clear a device's rows in ``table`` for a new reading; False when the CLI must leave SNMP's alone.

    SNMP replaces its own rows, and the CLI's too once it has something; the CLI replaces its
    own rows, and only while SNMP has nothing for the device.
    """
    if source == "snmp":
        conn.execute(f"DELETE FROM {table} WHERE device_id = ? AND source = 'snmp'", (device.id,))
        if has_rows:
            conn.execute(f"DELETE FROM {table} WHERE device_id = ?", (device.id,))
        return True
    if conn.execute(f"SELECT 1 FROM {table} WHERE device_id = ? AND source = 'snmp' LIMIT 1", (device.id,)).fetchone():
        return False
    conn.execute(f"DELETE FROM {table} WHERE device_id = ?", (device.id,))
    return True


_PORT = re.compile(r"^([A-Za-z-]+)\s*(\d[\w/.:-]*)$")


def port_name(name: str, known: Iterable[str]) -> str:
    """The device's own name (ifName) for a port that LLDP/CDP/CLI spelt another way.

    "TenGigabitEthernet1/1/1" and "Te1/1/1" are the same port when the numbers
    agree and one type prefix starts the other.
    """
    known = list(known)
    if name in known:
        return name
    m = _PORT.match(name.strip())
    if not m:
        return name
    prefix, numbers = m.group(1).lower(), m.group(2)
    for candidate in known:
        c = _PORT.match(candidate)
        if c and c.group(2) == numbers:
            other = c.group(1).lower()
            if other.startswith(prefix) or prefix.startswith(other):
                return candidate
    return name


def _record_runs(conn, device: DeviceRow, started: float, runs: list[CollectorRun], status: bool = True) -> None:
    """Collector health: the latest run per device and collector, and failures counted by reason."""
    for run in runs:
        if status:
            conn.execute(
                "INSERT INTO collector_status "
                "(device_id, collector, last_run, duration, last_success, last_error_reason) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(device_id, collector) DO UPDATE SET "
                "last_run=excluded.last_run, duration=excluded.duration, "
                "last_success=coalesce(excluded.last_success, collector_status.last_success), "
                "last_error_reason=excluded.last_error_reason",
                (device.id, run.collector, started, run.duration,
                 None if run.error_reason else started + run.duration, run.error_reason),
            )  # fmt: skip
        if run.error_reason:
            conn.execute(
                "INSERT INTO collector_errors (collector, reason, count) VALUES (?, ?, 1) "
                "ON CONFLICT(collector, reason) DO UPDATE SET count = count + 1",
                (run.collector, run.error_reason),
            )


def _device_events(
    device: DeviceRow, at: float, prev, system: SystemInfo | None, runs: list[CollectorRun]
) -> list[dict]:
    """Up/down transitions (a first poll that fails counts as one) and reboots."""
    up = system is not None
    was = None if prev is None or prev["up"] is None else bool(prev["up"])
    events = []
    if was != up and not (was is None and up):
        reason = next((r.error_reason for r in runs if r.error_reason), None)
        old = None if was is None else ("up" if was else "down")
        kind, new = ("device_up", "up") if up else ("device_down", "down")
        events.append(_event(device, at, kind, old=old, new=new, message="" if up else f"unreachable: {reason}"))
    if up and was is not None and prev["uptime_ticks"] is not None and system.uptime_ticks is not None:
        elapsed = at - (at if prev["uptime_at"] is None else prev["uptime_at"])
        if rebooted(prev["uptime_ticks"], system.uptime_ticks, elapsed):
            message = f"sysUpTime went back to {system.uptime_ticks / 100:.0f} s"
            events.append(_event(device, at, "device_rebooted", message=message))
    return events


def _event(
    device: DeviceRow,
    ts: float,
    kind: str,
    ifindex: int | None = None,
    ifname: str | None = None,
    old: str | None = None,
    new: str | None = None,
    message: str = "",
) -> dict:
    return {
        "ts": ts,
        "device_id": device.id,
        "hostname": device.hostname,
        "kind": kind,
        "ifindex": ifindex,
        "ifname": ifname,
        "old": old,
        "new": new,
        "message": message,
    }


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
