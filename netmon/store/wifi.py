"""Wi-Fi in the store: access points, per-AP/SSID samples, and client sessions.

A session is one client (by pseudonym) on one SSID at one site: opened when
the client appears, extended while it stays (roaming between APs of the same
site continues it), closed when it has been missing for more than one poll
interval plus a grace period, or moves to another SSID or site. Bytes
accumulate: the controller's counters are per association, so each poll adds
what they grew by since the last one, and a counter that went down means the
client re-associated (within the grace period, the session goes on) and its
counters restarted from zero: the new value is all new traffic. The last raw
counters of an open session are kept beside its totals for that. eduroam sessions, recognised by SSID,
carry the realm of the user name and the user's pseudonym; nothing raw about
a resident (MAC, user name, IP) is ever written.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from collectors.observations import AccessPoint, WlcResult
from netmon.privacy import PrivacyError, Pseudonymizer, realm_of
from netmon.store.db import Database
from netmon.store.rows import DeviceRow


@dataclass(frozen=True)
class WifiSettings:
    eduroam_ssids: frozenset[str] = frozenset({"eduroam"})
    interval: float = 60.0  # the controller's poll interval
    grace: float = 120.0  # extra absence tolerated before a session ends (a client between APs, a lost poll)


def record(
    conn: sqlite3.Connection,
    controller_id: int,
    at: float,
    result: WlcResult,
    pseudonyms: Pseudonymizer | None,
    settings: WifiSettings,
    site_of: Callable[[AccessPoint], int | None],
) -> dict[str, int]:
    """Store one controller poll (inside the caller's transaction); returns session counts for logs.

    Without a pseudonym key (``privacy:`` in the secrets file) no client session is kept:
    there is no way to follow a client without storing something that identifies it.
    """
    mapped = mapped_site(conn)
    sites = {}
    for ap in result.aps:
        site = mapped(ap)
        if site is None:
            site = site_of(ap)
        sites[ap.mac] = site
        conn.execute(
            "INSERT INTO access_points (controller_id, mac, name, model, serial, ip, location, status, uptime_seconds, "
            "site_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(controller_id, mac) DO UPDATE SET name=excluded.name, model=excluded.model, "
            "serial=excluded.serial, ip=excluded.ip, location=excluded.location, status=excluded.status, "
            "uptime_seconds=excluded.uptime_seconds, site_id=excluded.site_id, last_seen=excluded.last_seen",
            (controller_id, ap.mac, ap.name, ap.model, ap.serial, ap.ip, ap.location, ap.status, ap.uptime_seconds,
             site, at, at),
        )  # fmt: skip
    conn.execute("DELETE FROM ap_radios WHERE controller_id = ?", (controller_id,))
    conn.executemany(
        "INSERT OR REPLACE INTO ap_radios (controller_id, ap_mac, slot, band, channel, tx_power, tx_power_unit, "
        "clients, utilization, status, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(controller_id, r.ap_mac, r.slot, r.band, r.channel, r.tx_power, r.tx_power_unit, r.clients,
          r.utilization_ratio, r.status, at) for r in result.radios],
    )  # fmt: skip
    # APs the controller no longer lists are gone (removed, or replaced under the same name).
    conn.execute(
        "UPDATE access_points SET status = 'gone' WHERE controller_id = ? AND last_seen < ?", (controller_id, at)
    )
    counts = Counter((c.ap_mac, c.ssid) for c in result.clients)
    if not result.clients:  # no client table: the controller's per-SSID counters, not tied to an AP
        counts = Counter({("", w.ssid): w.clients for w in result.wlans if w.clients})
    # A marker row per poll: a poll with no clients at all must read as zero, not as the last non-zero poll.
    counts[("", "")] = 0
    conn.executemany(
        "INSERT INTO wifi_samples (ts, controller_id, ap_mac, ssid, clients) VALUES (?, ?, ?, ?, ?)",
        [(at, controller_id, ap, ssid, n) for (ap, ssid), n in sorted(counts.items())],
    )
    if pseudonyms is None:
        return {"opened": 0, "extended": 0, "closed": 0}
    return _sessions(conn, controller_id, at, result, pseudonyms, settings, sites)


def _sessions(conn, controller_id, at, result, pseudonyms, settings, sites) -> dict[str, int]:
    opened = extended = closed = 0
    open_rows = {
        r["client"]: r
        for r in conn.execute(
            "SELECT * FROM wifi_sessions WHERE controller_id = ? AND end IS NULL", (controller_id,)
        )
    }  # fmt: skip
    seen = set()
    for c in result.clients:
        try:
            client = pseudonyms.mac(c.mac)
        except PrivacyError:
            continue  # not a MAC: nothing we can follow
        if client in seen:
            continue
        seen.add(client)
        site = sites.get(c.ap_mac)
        eduroam = c.ssid in settings.eduroam_ssids
        realm = realm_of(c.username) if eduroam and c.username else None
        user = pseudonyms.user(c.username) if c.username else None
        row = open_rows.get(client)
        if row is not None and row["ssid"] == c.ssid and row["site_id"] == site:
            rx, tx = _counter(c.bytes_rx), _counter(c.bytes_tx)
            bytes_rx, raw_rx = accumulate(row["bytes_rx"], row["raw_rx"], rx)
            bytes_tx, raw_tx = accumulate(row["bytes_tx"], row["raw_tx"], tx)
            conn.execute(
                "UPDATE wifi_sessions SET last_seen = ?, ap_mac = ?, bytes_rx = ?, bytes_tx = ?, raw_rx = ?, "
                "raw_tx = ?, realm = coalesce(realm, ?), user = coalesce(user, ?) WHERE id = ?",
                (at, c.ap_mac, bytes_rx, bytes_tx, raw_rx, raw_tx, realm, user, row["id"]),
            )
            extended += 1
            continue
        if row is not None:  # another SSID or another site: that visit is over
            conn.execute("UPDATE wifi_sessions SET end = last_seen WHERE id = ?", (row["id"],))
            closed += 1
        conn.execute(
            "INSERT INTO wifi_sessions (controller_id, client, ssid, ap_mac, site_id, start, last_seen, bytes_rx, "
            "bytes_tx, raw_rx, raw_tx, eduroam, realm, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (controller_id, client, c.ssid, c.ap_mac, site, at, at, _counter(c.bytes_rx) or 0,
             _counter(c.bytes_tx) or 0, _counter(c.bytes_rx) or 0, _counter(c.bytes_tx) or 0, int(eduroam), realm,
             user),
        )  # fmt: skip
        opened += 1
    cutoff = at - settings.interval - settings.grace
    for client, row in open_rows.items():
        if client not in seen and row["last_seen"] < cutoff:
            conn.execute("UPDATE wifi_sessions SET end = last_seen WHERE id = ?", (row["id"],))
            closed += 1
    return {"opened": opened, "extended": extended, "closed": closed}


MAX_INTEGER = 2**63 - 1  # what SQLite keeps


def _counter(value: int | None) -> int | None:
    """A controller's byte counter, or None (not reported) when no session could have it: negative, or past what
    SQLite keeps (an agent answering 2^64-1 for a counter it does not keep must not fail the whole poll)."""
    return value if value is not None and 0 <= value <= MAX_INTEGER else None


def accumulate(total: int, last: int, counter: int | None) -> tuple[int, int]:
    """A session's byte total and the controller's last counter, after the counter reads ``counter``.

    The counter is per association: it grows, or restarts from zero when the client re-associates
    (then all of the new value is new traffic). ``None`` (not reported this poll) changes nothing."""
    if counter is None or counter < 0:
        return total, last
    return min(MAX_INTEGER, total + (counter - last if counter >= last else counter)), counter


def mapped_site(conn: sqlite3.Connection) -> Callable[[AccessPoint], int | None]:
    """The explicit mapping (``netmon inventory ap-sites``): by MAC, then by name; it wins over every rule."""
    by = {(r["kind"], r["key"]): r["site_id"] for r in conn.execute("SELECT kind, key, site_id FROM ap_site_map")}

    def site_of(ap: AccessPoint) -> int | None:
        return by.get(("mac", ap.mac.lower())) or by.get(("name", ap.name.strip().lower()))

    return site_of


class WifiStore(Database):
    def record_wlc(self, controller: DeviceRow, at: float, result, pseudonyms, settings, site_of) -> dict[str, int]:
        """One controller poll (see :func:`record`), in one transaction."""
        with self.transaction() as conn:
            return record(conn, controller.id, at, result, pseudonyms, settings, site_of)

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

    # -- the lab's synthetic past (netmon.lab.history) ----------------------------------------------------------

    def add_history_access_points(
        self, controller_id: int, aps: list[tuple[str, str, str, int]], first_seen: float, last_seen: float
    ) -> None:
        """(MAC, name, location, site id) of a controller's APs, known since ``first_seen``; one transaction."""
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO access_points (controller_id, mac, name, model, location, status, site_id, first_seen, "
                "last_seen) VALUES (?, ?, ?, 'AIR-AP3802I-E-K9', ?, 'up', ?, ?, ?) "
                "ON CONFLICT(controller_id, mac) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)",
                [(controller_id, mac, name, where, site, first_seen, last_seen) for mac, name, where, site in aps],
            )

    def add_history_sessions(self, rows: list[tuple]) -> None:
        """Closed Wi-Fi sessions of the synthetic past (``source = 'synthetic'``), in one transaction: (controller
        id, client, SSID, AP MAC, site id, start, last seen, end, bytes rx, bytes tx, eduroam, realm, user)."""
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO wifi_sessions (controller_id, client, ssid, ap_mac, site_id, start, last_seen, end, "
                "bytes_rx, bytes_tx, eduroam, realm, user, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'synthetic')",
                rows,
            )
