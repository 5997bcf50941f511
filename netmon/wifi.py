"""Wi-Fi usage in the store: access points, per-AP/SSID samples, and client sessions.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collectors.wlc.observations import AccessPoint, WlcResult
from netmon.privacy import PrivacyError, Pseudonymizer, realm_of

MIGRATION = """
CREATE TABLE access_points (
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    mac TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    uptime_seconds INTEGER,
    site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (controller_id, mac)
);
CREATE TABLE ap_radios (
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ap_mac TEXT NOT NULL,
    slot INTEGER NOT NULL,
    band TEXT,
    channel INTEGER,
    tx_power REAL,
    tx_power_unit TEXT NOT NULL DEFAULT '',
    clients INTEGER,
    utilization REAL,
    status TEXT NOT NULL DEFAULT 'unknown',
    seen_at REAL NOT NULL,
    PRIMARY KEY (controller_id, ap_mac, slot)
);
CREATE TABLE wifi_samples (
    ts REAL NOT NULL,
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ap_mac TEXT NOT NULL,
    ssid TEXT NOT NULL,
    clients INTEGER NOT NULL
);
CREATE INDEX wifi_samples_ts ON wifi_samples(ts);
CREATE INDEX wifi_samples_controller ON wifi_samples(controller_id, ts);
CREATE TABLE wifi_sessions (
    id INTEGER PRIMARY KEY,
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    ssid TEXT NOT NULL,
    ap_mac TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    start REAL NOT NULL,
    last_seen REAL NOT NULL,
    end REAL,
    bytes_rx INTEGER NOT NULL DEFAULT 0,
    bytes_tx INTEGER NOT NULL DEFAULT 0,
    raw_rx INTEGER NOT NULL DEFAULT 0,
    raw_tx INTEGER NOT NULL DEFAULT 0,
    eduroam INTEGER NOT NULL DEFAULT 0,
    realm TEXT,
    user TEXT,
    source TEXT NOT NULL DEFAULT 'poll'
);
CREATE INDEX wifi_sessions_open ON wifi_sessions(controller_id, client) WHERE end IS NULL;
CREATE INDEX wifi_sessions_start ON wifi_sessions(start);
"""

# key: an AP's MAC (aa:bb:..) when kind = 'mac', its lower-cased name when kind = 'name'
AP_SITE_MAP_MIGRATION = """
CREATE TABLE ap_site_map (
    kind TEXT NOT NULL CHECK (kind IN ('mac', 'name')),
    key TEXT NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
);
"""


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
            bytes_rx, raw_rx = accumulate(row["bytes_rx"], row["raw_rx"], c.bytes_rx)
            bytes_tx, raw_tx = accumulate(row["bytes_tx"], row["raw_tx"], c.bytes_tx)
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
            (controller_id, client, c.ssid, c.ap_mac, site, at, at, c.bytes_rx or 0, c.bytes_tx or 0, c.bytes_rx or 0,
             c.bytes_tx or 0, int(eduroam), realm, user),
        )  # fmt: skip
        opened += 1
    cutoff = at - settings.interval - settings.grace
    for client, row in open_rows.items():
        if client not in seen and row["last_seen"] < cutoff:
            conn.execute("UPDATE wifi_sessions SET end = last_seen WHERE id = ?", (row["id"],))
            closed += 1
    return {"opened": opened, "extended": extended, "closed": closed}


def accumulate(total: int, last: int, counter: int | None) -> tuple[int, int]:
    """A session's byte total and the controller's last counter, after the counter reads ``counter``.

    The counter is per association: it grows, or restarts from zero when the client re-associates
    (then all of the new value is new traffic). ``None`` (not reported this poll) changes nothing."""
    if counter is None or counter < 0:
        return total, last
    return total + (counter - last if counter >= last else counter), counter


def mapped_site(conn: sqlite3.Connection) -> Callable[[AccessPoint], int | None]:
    """The explicit mapping (``netmon inventory ap-sites``): by MAC, then by name; it wins over every rule."""
    by = {(r["kind"], r["key"]): r["site_id"] for r in conn.execute("SELECT kind, key, site_id FROM ap_site_map")}

    def site_of(ap: AccessPoint) -> int | None:
        return by.get(("mac", ap.mac.lower())) or by.get(("name", ap.name.strip().lower()))

    return site_of


def site_by_name(sites: dict[str, int]) -> Callable[[AccessPoint], int | None]:
    """The default rule: the site whose name appears in the AP's name or location (the longest wins)."""
    ordered = sorted(sites.items(), key=lambda kv: -len(kv[0]))

    def site_of(ap: AccessPoint) -> int | None:
        text = f"{ap.name} {ap.location}".lower()
        return next((site_id for name, site_id in ordered if name.lower() in text), None)

    return site_of


def site_rules(rules: Iterable[dict], sites: dict[str, int]) -> Callable[[AccessPoint], int | None]:
    """Configured AP-to-site rules, in order, then the name/location default.

    Each rule is ``{name: ap-name, site: S}`` (an explicit mapping), ``{prefix: ap-lib-, site: S}``
    or ``{location: "Main Library", site: S}`` (a substring of the AP's location string).
    """
    checked = []
    for rule in rules:
        if rule.get("site") not in sites or len({"name", "prefix", "location"} & set(rule)) != 1:
            raise ValueError(f"bad AP site rule {rule!r}: one of name, prefix, location, and a known site")
        checked.append(rule)
    default = site_by_name(sites)

    def site_of(ap: AccessPoint) -> int | None:
        for rule in checked:
            if (
                ("name" in rule and ap.name.lower() == str(rule["name"]).lower())
                or ("prefix" in rule and ap.name.lower().startswith(str(rule["prefix"]).lower()))
                or ("location" in rule and str(rule["location"]).lower() in ap.location.lower())
            ):
                return sites[rule["site"]]
        return default(ap)

    return site_of


def site_by_prefix(rules: Iterable[tuple[str, int]]) -> Callable[[AccessPoint], int | None]:
    """AP-to-site by name prefix, longest prefix first (``ap-library-`` before ``ap-``)."""
    ordered = sorted(rules, key=lambda r: -len(r[0]))

    def site_of(ap: AccessPoint) -> int | None:
        name = ap.name.lower()
        return next((site for prefix, site in ordered if name.startswith(prefix.lower())), None)

    return site_of
