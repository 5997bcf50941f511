"""Devices and interfaces: the inventory, each device's latest state, its interfaces' counter totals, events.

What lives here is what Prometheus is bad at: the inventory, the latest state
of every device and interface (with the running counter totals the exporter
publishes, kept with :mod:`netmon.counters`), collector health and the event
log. :meth:`DevicesStore.record_poll` stores a whole device poll in one
transaction.
"""

from __future__ import annotations

import sqlite3

from collectors.observations import (
    ADMIN_STATUS,
    OPER_STATUS,
    CollectorRun,
    HardwareItem,
    InterfaceSample,
    Neighbor,
    OpticReading,
    SystemInfo,
)
from inventory.model import Device, Inventory
from netmon.counters import CounterSample, counter_delta, rebooted
from netmon.store import topology
from netmon.store.db import Database, marks
from netmon.store.migrations import ALWAYS_32, COUNTERS
from netmon.store.rows import DeviceRow

# An interface must be missing from this many successful polls in a row before it is
# removed: a walk cut short by a booting agent must not erase interfaces and their totals.
REMOVE_AFTER_MISSING = 3
# A poll that started at most this long before the stored one is a late, concurrent poll (ignored);
# further back, the wall clock was stepped back and the poll is recorded.
STALE_WINDOW = 300.0
# The speed bound for counters of an interface whose speed is unknown (ifHighSpeed 0): 1 Tb/s.
UNKNOWN_SPEED_BPS = 10**12


def _max_rate(counter: str, speed_bps: int | None) -> float:
    speed_bps = speed_bps or UNKNOWN_SPEED_BPS
    if counter.endswith("octets"):
        return speed_bps / 8
    # The smallest Ethernet frame plus preamble and gap is 84 octets on the wire.
    return speed_bps / 8 / 84


class DevicesStore(Database):
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
            others = f"FROM devices WHERE lower(hostname) NOT IN ({marks(keep_devices)})"
            undeclared = conn.execute(f"SELECT count(*) {others}", keep_devices).fetchone()[0]
            removed_devices = removed_sites = 0
            if prune:
                removed_devices = conn.execute(f"DELETE {others}", keep_devices).rowcount
                removed_sites = conn.execute(
                    f"DELETE FROM sites WHERE name NOT IN ({marks(keep_sites)}) "
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
                topology.record_optics(conn, device, started, optics)
            if hardware is not None and up:
                topology.record_hardware(conn, device, started, hardware)
            if chassis_id and up:
                conn.execute("UPDATE device_state SET chassis_id = ? WHERE device_id = ?", (chassis_id, device.id))
            if neighbors is not None and up:
                topology.record_neighbors(conn, device, started, neighbors)
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
                topology.record_hardware(conn, device, started, hardware, source="cli")
            if optics is not None:
                topology.record_optics(conn, device, started, optics, source="cli")
            if neighbors is not None:
                topology.record_neighbors(conn, device, started, neighbors)
            _record_runs(conn, device, started, runs)

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
                f"INSERT OR REPLACE INTO interfaces ({', '.join(cols)}) VALUES ({marks(cols)})",
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

    def interface_versions(self) -> dict[str, float | None]:
        """Hostname -> the time of its last poll (None: never): a device's interfaces change only when it is
        polled, so the exporter keeps its rendered lines until this moves."""
        return {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT d.hostname, st.last_poll FROM devices d LEFT JOIN device_state st ON st.device_id = d.id"
            )
        }

    def interface_metric_rows(self, hostnames: list[str] | None = None) -> list[tuple]:
        """What the exporter needs of every present interface, as plain tuples (15,000 at city size, every
        scrape): hostname, site, name, ifindex, alias, type, admin_status, oper_status, speed_bps, device role,
        then the eight counter totals in :data:`COUNTERS` order, None where the agent has no such counter."""
        totals = ", ".join(f"CASE WHEN i.raw_{c} IS NULL THEN NULL ELSE i.total_{c} END" for c in COUNTERS)
        where, args = "", ()
        if hostnames is not None:
            where, args = f" AND d.hostname IN ({marks(hostnames)})", tuple(hostnames)
        conn = self.conn
        conn.row_factory = None  # tuples: a Row per port costs more than the port's twelve lines
        try:
            return conn.execute(
                "SELECT d.hostname, s.name, i.name, i.ifindex, i.alias, i.type, i.admin_status, i.oper_status, "
                f"i.speed_bps, d.role, {totals} FROM interfaces i JOIN devices d ON d.id = i.device_id "
                f"JOIN sites s ON s.id = d.site_id WHERE i.missing_polls = 0{where} ORDER BY d.hostname, i.ifindex",
                args,
            ).fetchall()
        finally:
            conn.row_factory = sqlite3.Row

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
