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

import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from collectors.observations import AccessPoint, WlcResult
from netmon.privacy import PrivacyError, Pseudonymizer, realm_of
from netmon.store.db import Database, marks
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
    record_counts(conn, controller_id, at, counts)
    if pseudonyms is None:
        return {"opened": 0, "extended": 0, "closed": 0}
    return _sessions(conn, controller_id, at, result, pseudonyms, settings, sites)


# A full poll (every count, changed or not) at least this often: a reader of any window starts at most this far
# back, and retention can cut anywhere.
FULL_EVERY = 3600.0


def name_ids(conn: sqlite3.Connection, values) -> dict[str, int]:
    """The ids of these strings in ``names``, added if new."""
    values = sorted(set(values))
    conn.executemany("INSERT OR IGNORE INTO names (value) VALUES (?)", [(v,) for v in values])
    ids: dict[str, int] = {}
    for k in range(0, len(values), 500):
        chunk = values[k : k + 500]
        ids.update(conn.execute(f"SELECT value, id FROM names WHERE value IN ({marks(chunk)})", chunk).fetchall())
    return ids


def record_counts(conn: sqlite3.Connection, controller_id: int, at: float, counts: dict[tuple[str, str], int]) -> None:
    """One poll's clients per (AP MAC, SSID): a wifi_polls row, and a wifi_counts row for each count that is not
    what the controller's previous poll left (0 for one gone), or for every count at a full poll."""
    ids = name_ids(conn, {v for key in counts for v in key})
    now = {(ids[ap], ids[ssid]): n for (ap, ssid), n in counts.items() if n}
    before = {
        (a, s): n
        for a, s, n in conn.execute(
            "SELECT ap_id, ssid_id, clients FROM wifi_current WHERE controller_id = ?", (controller_id,)
        )
    }
    last_full = conn.execute(
        "SELECT ts FROM wifi_polls WHERE controller_id = ? AND ts <= ? AND full = 1 ORDER BY ts DESC LIMIT 1",
        (controller_id, at),
    ).fetchone()
    full = last_full is None or at - last_full[0] >= FULL_EVERY
    changed = {k: n for k, n in now.items() if before.get(k) != n}
    gone = [k for k in before if k not in now]
    rows = now if full else {**changed, **dict.fromkeys(gone, 0)}
    poll = conn.execute(
        "INSERT INTO wifi_polls (controller_id, ts, full) VALUES (?, ?, ?)", (controller_id, at, int(full))
    ).lastrowid
    conn.executemany(
        "INSERT INTO wifi_counts (poll_id, ap_id, ssid_id, clients) VALUES (?, ?, ?, ?)",
        [(poll, a, s, n) for (a, s), n in sorted(rows.items())],
    )
    conn.executemany(
        "DELETE FROM wifi_current WHERE controller_id = ? AND ap_id = ? AND ssid_id = ?",
        [(controller_id, a, s) for a, s in gone],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO wifi_current (controller_id, ap_id, ssid_id, clients) VALUES (?, ?, ?, ?)",
        [(controller_id, a, s, n) for (a, s), n in changed.items()],
    )


@dataclass(frozen=True, slots=True)
class PollCounts:
    """One controller poll and its clients per (AP MAC, SSID), as the controller reported them (no zeros)."""

    controller_id: int
    ts: float
    counts: dict[tuple[str, str], int]


def poll_counts(conn: sqlite3.Connection, lo: float, hi: float) -> Iterator[PollCounts]:
    """Every controller poll in [lo, hi), per controller in time order, each with the counts it held: the last
    full poll at or before ``lo`` and the changes since, replayed."""
    names = {}
    for (cid,) in conn.execute(
        "SELECT DISTINCT controller_id FROM wifi_polls WHERE ts >= ? AND ts < ? ORDER BY controller_id", (lo, hi)
    ).fetchall():
        start = conn.execute(
            "SELECT ts FROM wifi_polls WHERE controller_id = ? AND ts <= ? AND full = 1 ORDER BY ts DESC LIMIT 1",
            (cid, lo),
        ).fetchone()
        rows = conn.execute(
            "SELECT p.id, p.ts, p.full, c.ap_id, c.ssid_id, c.clients FROM wifi_polls p "
            "LEFT JOIN wifi_counts c ON c.poll_id = p.id WHERE p.controller_id = ? AND p.ts >= ? AND p.ts < ? "
            "ORDER BY p.ts, p.id",
            (cid, start[0] if start else float("-inf"), hi),
        ).fetchall()
        missing = {r[k] for r in rows for k in (3, 4) if r[k] is not None and r[k] not in names}
        for k in range(0, len(missing), 500):
            chunk = sorted(missing)[k : k + 500]
            names.update(conn.execute(f"SELECT id, value FROM names WHERE id IN ({marks(chunk)})", chunk).fetchall())
        state: dict[tuple[str, str], int] = {}
        for i, r in enumerate(rows):
            poll_id, ts, full, ap, ssid, n = r
            first = i == 0 or rows[i - 1][0] != poll_id
            if first and full:
                state = {}
            if ap is not None:
                key = (names[ap], names[ssid])
                if n:
                    state[key] = n
                else:
                    state.pop(key, None)
            if ts >= lo and (i + 1 == len(rows) or rows[i + 1][0] != poll_id):
                yield PollCounts(cid, ts, dict(state))


def prune_counts(conn: sqlite3.Connection, cutoff: float) -> int:
    """Delete the polls before ``cutoff`` and their counts (how many counts); each controller's first poll kept
    first becomes a full one, holding what the deleted ones left it."""
    for cid, ts in conn.execute(
        "SELECT controller_id, min(ts) FROM wifi_polls WHERE ts >= ? GROUP BY controller_id", (cutoff,)
    ).fetchall():
        poll_id, full = conn.execute(
            "SELECT id, full FROM wifi_polls WHERE controller_id = ? AND ts = ? ORDER BY id LIMIT 1", (cid, ts)
        ).fetchone()
        if full:
            continue
        held = next(p for p in poll_counts(conn, ts, math.nextafter(ts, math.inf)) if p.controller_id == cid)
        ids = name_ids(conn, {v for key in held.counts for v in key})
        conn.execute("DELETE FROM wifi_counts WHERE poll_id = ?", (poll_id,))
        conn.executemany(
            "INSERT INTO wifi_counts (poll_id, ap_id, ssid_id, clients) VALUES (?, ?, ?, ?)",
            [(poll_id, ids[ap], ids[ssid], n) for (ap, ssid), n in sorted(held.counts.items())],
        )
        conn.execute("UPDATE wifi_polls SET full = 1 WHERE id = ?", (poll_id,))
    n = conn.execute(
        "SELECT count(*) FROM wifi_counts c JOIN wifi_polls p ON p.id = c.poll_id WHERE p.ts < ?", (cutoff,)
    ).fetchone()[0]
    conn.execute("DELETE FROM wifi_counts WHERE poll_id IN (SELECT id FROM wifi_polls WHERE ts < ?)", (cutoff,))
    conn.execute("DELETE FROM wifi_polls WHERE ts < ?", (cutoff,))
    return n


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
        # wifi_current is the latest poll's counts; a controller whose polls retention removed shows none.
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT m.value AS ap_mac, n.value AS ssid, w.clients, d.hostname AS controller, a.name AS ap, "
                "s.name AS site FROM wifi_current w JOIN devices d ON d.id = w.controller_id "
                "JOIN names m ON m.id = w.ap_id JOIN names n ON n.id = w.ssid_id "
                "LEFT JOIN access_points a ON a.controller_id = w.controller_id AND a.mac = m.value "
                "LEFT JOIN sites s ON s.id = a.site_id "
                "WHERE n.value != '' AND EXISTS (SELECT 1 FROM wifi_polls p WHERE p.controller_id = w.controller_id)"
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
