"""Topology and optics: LLDP/CDP links between devices, transceiver DOM readings, hardware inventory.

SNMP is the better source for optics and hardware (thresholds, entity indexes):
the CLI's readings are kept only for a device whose SNMP gives none
(:func:`take_over`). Port names from LLDP, CDP and the CLI are stored as the
device's ifName (:func:`port_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from collectors.observations import HardwareItem, Neighbor, OpticReading
from netmon.store.db import Database
from netmon.store.rows import DeviceRow

# A neighbour not seen again for this long is forgotten (its row keeps the link's history until then).
LINK_HISTORY = 7 * 86400.0


def record_optics(conn, device: DeviceRow, at: float, readings: list[OpticReading], source: str = "snmp") -> None:
    """The device's optics are exactly these now: a transceiver pulled out disappears.

    SNMP is the better source (it has thresholds); the CLI's readings are kept only
    for a device whose SNMP gives none.
    """
    if not take_over(conn, "optics", device, source, bool(readings)):
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


def record_neighbors(conn, device: DeviceRow, at: float, neighbors: list[Neighbor]) -> None:
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


def record_hardware(conn, device: DeviceRow, at: float, items: list[HardwareItem], source: str = "snmp") -> None:
    if not take_over(conn, "hardware", device, source, bool(items)):
        return
    for position, h in enumerate(items):
        conn.execute(
            "INSERT INTO hardware (device_id, position, entity_index, class, name, description, model, serial, "
            "firmware, software, hardware_rev, contained_in, seen_at, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (device.id, position, h.index, h.klass, h.name, h.description, h.model, h.serial, h.firmware,
             h.software, h.hardware_rev, h.contained_in, at, source),
        )  # fmt: skip


def take_over(conn, table: str, device: DeviceRow, source: str, has_rows: bool) -> bool:
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


class TopologyStore(Database):
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

    def neighbour_ports(self) -> list[tuple[str, str]]:
        """(hostname, port) of every local port with an LLDP/CDP neighbour."""
        return [
            (r[0], r[1])
            for r in self.conn.execute(
                "SELECT DISTINCT a.hostname, l.a_port FROM links l JOIN devices a ON a.id = l.a_device_id"
            )
        ]

    def fibre_link_ports(self) -> list[tuple[str, str]]:
        """(hostname, port) of both ends of every fibre the inventory declares."""
        return [
            (r[0], r[1])
            for r in self.conn.execute(
                "SELECT a.hostname, f.a_port FROM fibre_links f JOIN devices a ON a.id = f.a_device_id "
                "UNION SELECT b.hostname, f.b_port FROM fibre_links f JOIN devices b ON b.id = f.b_device_id"
            )
        ]

    def optic_states(self) -> list[dict]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT o.*, d.hostname, s.name AS site FROM optics o JOIN devices d ON d.id = o.device_id "
                "JOIN sites s ON s.id = d.site_id ORDER BY d.hostname, o.ifname, o.lane, o.kind"
            )
        ]
