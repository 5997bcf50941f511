"""Daily Wi-Fi usage aggregates, per local day, site and SSID, from controller and RADIUS sessions.

Planners read days, sites and hours, never people, and raw sessions are
pruned after ``retention_days`` (:mod:`netmon.retention`): what the reports
need must survive in aggregates. A day here is a calendar day in the city's
time zone (configuration ``timezone``, else the system's), so a DST day has
23 or 25 hours and "8 o'clock" is the city's 8 o'clock.

Visits. A client (by pseudonym) seen by the controller (``wifi_sessions``)
and by RADIUS accounting (``radius_sessions``, when that table exists) at
the same time, at the same site when both know it, is one visit: its time
is the union of both sessions' intervals, its bytes the larger of the two
sources' totals. Sessions from one source alone are visits of their own.
A RADIUS session without a client (no Calling-Station-Id) stands for the
device of its user: it joins the controller sessions of that user (the one
device it overlaps longest). Joins are transitive and may reach outside the
day; :func:`fetch` reads until they stop growing, so a day's rows do not
depend on the range rebuilt.

Per day and group a visit counts:
- as a session on the day it starts (summing days gives the period's sessions);
- as a unique client on every day it is connected in;
- for its connected time inside the day (a client's overlapping visits once);
- for its bytes pro rata to its connected time inside the day.
Peak concurrency treats intervals as closed: two clients seen at the same
poll were both connected then. Distinct clients over several days come from
the daily HyperLogLog sketches (:mod:`netmon.hll`).

A rebuild of a day deletes and inserts that day's rows in one transaction:
running it again gives the same rows. Days whose raw sessions were pruned
are final and never rebuilt.
"""

from __future__ import annotations

import bisect
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from netmon import hll

if TYPE_CHECKING:
    from netmon.store import Store

log = logging.getLogger(__name__)

UNASSIGNED = "(no site)"
UNKNOWN_REALM = "(unknown)"
# Sessions this far outside the day are read in the first round (:func:`fetch` widens further when a visit
# reaches beyond): most visits joined across midnight are then complete without a second query.
MARGIN = 6 * 3600.0
# Rounds of widening the read window: each one adds at least a session to a visit touching the day, so only a
# pathological chain of ever-overlapping sessions reaches it (it is logged).
MAX_WIDEN = 64
# Days read and replaced per transaction: a week of a city's sessions is a few tens of thousands of rows.
CHUNK_DAYS = 7

MIGRATION = """
CREATE TABLE usage_days (
    day TEXT PRIMARY KEY,
    tz TEXT NOT NULL,
    built_at REAL NOT NULL,
    complete INTEGER NOT NULL,
    pruned INTEGER NOT NULL DEFAULT 0,
    source_sessions INTEGER NOT NULL
);
CREATE TABLE usage_daily (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    ssid TEXT NOT NULL,
    clients INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    bytes INTEGER NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    eduroam_sessions INTEGER NOT NULL,
    eduroam_users INTEGER NOT NULL,
    clients_hll BLOB NOT NULL,
    PRIMARY KEY (day, site, ssid)
);
CREATE TABLE usage_site_daily (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    clients INTEGER NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    clients_hll BLOB NOT NULL,
    PRIMARY KEY (day, site)
);
CREATE TABLE usage_daily_realm (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    ssid TEXT NOT NULL,
    realm TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    users INTEGER NOT NULL,
    users_hll BLOB NOT NULL,
    PRIMARY KEY (day, site, ssid, realm)
);
CREATE TABLE usage_hourly (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    hour INTEGER NOT NULL,
    clients INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (day, site, hour)
);
CREATE TABLE usage_ap_daily (
    day TEXT NOT NULL,
    ap_mac TEXT NOT NULL,
    ap_name TEXT NOT NULL,
    site TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    clients INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    PRIMARY KEY (day, ap_mac)
);
"""

TABLES = ("usage_daily", "usage_site_daily", "usage_daily_realm", "usage_hourly", "usage_ap_daily")


def local_zone(name: str | None = None) -> ZoneInfo:
    """The named IANA zone, else the system's (``$TZ``, ``/etc/localtime``, ``/etc/timezone``), else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as America/Toronto)") from None
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def day_window(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """[local midnight, next local midnight) as epoch seconds."""
    lo = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    nxt = day + timedelta(days=1)
    return lo, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp()


def local_day(ts: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class Slots:
    """The day's hours: start times and local hour labels (a DST day repeats or skips one)."""

    starts: list[float]
    hours: list[int]

    @classmethod
    def of(cls, lo: float, hi: float, tz: ZoneInfo) -> Slots:
        starts, hours = [], []
        t = lo
        while t < hi:
            starts.append(t)
            hours.append(datetime.fromtimestamp(t, tz).hour)
            t += 3600.0
        return cls(starts, hours)

    def index(self, t: float) -> int:
        return max(0, bisect.bisect_right(self.starts, t) - 1)

    def span(self, s: float, e: float) -> range:
        """Slots a closed interval [s, e] inside the day touches (an end exactly on the hour stays before it)."""
        first = self.index(s)
        last = max(first, bisect.bisect_left(self.starts, e) - 1) if e > s else first
        return range(first, last + 1)


# -- interval arithmetic --------------------------------------------------------


def union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint closed intervals covering the same time (touching ones joined)."""
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def measure(intervals: Iterable[tuple[float, float]]) -> float:
    return sum(e - s for s, e in intervals)


def peak(intervals: Iterable[tuple[float, float]]) -> tuple[int, float | None]:
    """Most closed intervals covering one instant, and the first instant it happened."""
    events = []
    for s, e in intervals:
        events.append((s, 0))
        events.append((e, 1))
    events.sort()  # at the same instant, starts (0) before ends (1): closed intervals
    best, at, now = 0, None, 0
    for t, kind in events:
        if kind == 0:
            now += 1
            if now > best:
                best, at = now, t
        else:
            now -= 1
    return best, at


def clip(intervals: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts inside [lo, hi); an interval that only ends at ``lo`` belongs to the day before."""
    out = []
    for s, e in intervals:
        if s >= hi or e < lo or (e == lo and s < lo):
            continue
        out.append((max(s, lo), min(e, hi)))
    return out


# -- visits ---------------------------------------------------------------------

# A source row: (source "w"|"r", client, ssid, ap_mac, site_id, start, end, bytes, eduroam, realm, user)
Row = tuple


@dataclass(slots=True)
class Visit:
    client: str
    site: str
    ssid: str
    ap_mac: str
    intervals: list[tuple[float, float]]
    start: float
    end: float
    bytes: int
    eduroam: bool
    realm: str | None
    user: str | None
    sources: str = "w"


def _overlap(a: Row, b: Row) -> bool:
    if a[4] is not None and b[4] is not None and a[4] != b[4]:
        return False
    return a[5] <= b[6] and b[5] <= a[6]


def _clientless(r: Row) -> bool:
    """A RADIUS session without Calling-Station-Id: its key fell back to the user pseudonym (another namespace)."""
    return r[0] == "r" and r[10] is not None and r[1] == r[10]


def _joins(w: Row, r: Row) -> bool:
    """A controller session ``w`` and a RADIUS session ``r`` are one visit: the same device (or, RADIUS knowing
    no device, the same user the controller saw), overlapping in time, at the same site when both know it."""
    if w[1] != r[1] and not (_clientless(r) and w[10] == r[10]):
        return False
    return _overlap(w, r)


def _one_device(rows: list[Row], partners: list[int], r: Row) -> list[int]:
    """A clientless RADIUS session is one device: of the user's devices it overlaps, the one it overlaps longest
    (ties: the smallest key), so a user's laptop and phone do not become one visit through it."""
    time: dict[str, float] = defaultdict(float)
    for i in partners:
        time[rows[i][1]] += min(rows[i][6], r[6]) - max(rows[i][5], r[5])
    device = min(time, key=lambda k: (-time[k], k))
    return [i for i in partners if rows[i][1] == device]


def families(rows: Iterable[Row]) -> dict[str, str]:
    """Client key -> the key of the rows it may join with: clients whose controller sessions carry the user of a
    clientless RADIUS session are one family with it (keys absent from the result are families of their own)."""
    rows = list(rows)
    anon = {r[10] for r in rows if _clientless(r)}
    if not anon:
        return {}
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    for r in rows:
        if r[0] == "w" and r[10] in anon:
            a, b = root(r[1]), root(r[10])
            if a != b:
                parent[a] = b
    return {k: root(k) for k in list(parent)} | {u: root(u) for u in anon}


def _order(r: Row) -> tuple:
    """Rows of a visit in time order, fully ordered: what the visit takes from "the first" row must not depend
    on the order the store returned them in (another rebuild range reads them in another order)."""
    return (r[5], r[6], r[0], r[1], r[2], r[3], -1 if r[4] is None else r[4], r[7], r[8], r[9] or "", r[10] or "")


def _visit(rows: list[Row], site_names: dict[int, str]) -> Visit:
    if len(rows) > 1:
        rows = sorted(rows, key=_order)
    wifi = [r for r in rows if r[0] == "w"]
    radius = [r for r in rows if r[0] == "r"]
    lead = max(wifi or radius, key=lambda r: r[6] - r[5])  # the controller's view of site, SSID and AP first
    site_id = next((r[4] for r in wifi if r[4] is not None), None)
    if site_id is None:
        site_id = next((r[4] for r in radius if r[4] is not None), None)
    intervals = union((r[5], r[6]) for r in rows)
    return Visit(
        client=lead[1],
        site=site_names.get(site_id, UNASSIGNED) if site_id is not None else UNASSIGNED,
        ssid=lead[2] or next((r[2] for r in rows if r[2]), ""),
        ap_mac=lead[3] or next((r[3] for r in rows if r[3]), ""),
        intervals=intervals,
        start=intervals[0][0],
        end=intervals[-1][1],
        bytes=max(sum(r[7] for r in wifi), sum(r[7] for r in radius)),
        eduroam=any(r[8] for r in rows),
        realm=next((r[9] for r in rows if r[9]), None),
        user=next((r[10] for r in radius + wifi if r[10]), None),
        sources="".join(sorted({r[0] for r in rows})),
    )


def _find(parent: list[int], i: int) -> int:
    """Union-find root, halving the path."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def merge_visits(rows: Iterable[Row], site_names: dict[int, str]) -> list[Visit]:
    """Join controller and RADIUS sessions into visits (:func:`_joins`, transitively)."""
    return [_visit(g, site_names) for g in components(rows)]


def components(rows: Iterable[Row]) -> list[list[Row]]:
    """The rows grouped into visits: connected components of the :func:`_joins` relation."""
    rows = list(rows)
    fam = families(rows)
    by_family: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_family[fam.get(r[1], r[1])].append(r)
    out: list[list[Row]] = []
    for family_rows in by_family.values():
        if len({r[0] for r in family_rows}) < 2:
            out.extend([r] for r in family_rows)
            continue
        parent = list(range(len(family_rows)))
        for j, b in enumerate(family_rows):
            if b[0] != "r":
                continue
            partners = [i for i, a in enumerate(family_rows) if a[0] == "w" and _joins(a, b)]
            if len(partners) > 1 and _clientless(b):
                partners = _one_device(family_rows, partners, b)
            for i in partners:
                parent[_find(parent, i)] = _find(parent, j)
        groups: dict[int, list[Row]] = defaultdict(list)
        for i, r in enumerate(family_rows):
            groups[_find(parent, i)].append(r)
        out.extend(groups.values())
    return out


# -- one day --------------------------------------------------------------------


@dataclass
class DayRows:
    daily: list[tuple] = field(default_factory=list)
    site: list[tuple] = field(default_factory=list)  # all SSIDs: a site's own distinct clients and peak
    realm: list[tuple] = field(default_factory=list)
    hourly: list[tuple] = field(default_factory=list)
    ap: list[tuple] = field(default_factory=list)


def _per_client(intervals_by_client: dict[str, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Every client's time as disjoint intervals: one client's overlapping visits count once."""
    out = []
    for ivs in intervals_by_client.values():
        out.extend(union(ivs) if len(ivs) > 1 else ivs)
    return out


def aggregate_day(
    day: str,
    lo: float,
    hi: float,
    slots: Slots,
    visits: Iterable[Visit],
    ap_info: dict[str, tuple[str, str | None]] | None = None,
    sample_peaks: dict[str, tuple[int, float]] | None = None,
    hll_cache: dict | None = None,
) -> DayRows:
    """The day's rows for every table, from the visits that touch [lo, hi)."""
    ap_info = ap_info or {}
    sample_peaks = sample_peaks or {}
    groups: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    sessions: Counter = Counter()
    nbytes: dict[tuple[str, str], float] = defaultdict(float)
    edu_sessions: Counter = Counter()
    edu_users: dict[tuple[str, str], set] = defaultdict(set)
    realm_sessions: Counter = Counter()
    realm_users: dict[tuple, set] = defaultdict(set)
    site_clients: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    hour_sessions: Counter = Counter()
    ap_clients: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    ap_sessions: Counter = Counter()
    ap_site: dict[str, Counter] = defaultdict(Counter)
    for v in visits:
        part = clip(v.intervals, lo, hi)
        if not part:
            continue
        g = (v.site, v.ssid)
        starts_here = lo <= v.start < hi
        total = measure(v.intervals)
        share = measure(part) / total if total > 0 else float(starts_here)
        groups[g][v.client].extend(part)
        site_clients[v.site][v.client].extend(part)
        nbytes[g] += v.bytes * share
        if v.ap_mac:
            ap_clients[v.ap_mac][v.client].extend(part)
            ap_site[v.ap_mac][v.site] += 1
        if starts_here:
            sessions[g] += 1
            hour_sessions[(v.site, slots.hours[slots.index(v.start)])] += 1
            if v.ap_mac:
                ap_sessions[v.ap_mac] += 1
        if v.eduroam:
            realm = v.realm or UNKNOWN_REALM
            who = v.user or v.client
            edu_users[g].add(who)
            realm_users[(*g, realm)].add(who)
            if starts_here:
                edu_sessions[g] += 1
                realm_sessions[(*g, realm)] += 1
    out = DayRows()
    for g, by_client in sorted(groups.items()):
        ivs = _per_client(by_client)
        top, at = peak(ivs)
        out.daily.append((
            day, g[0], g[1], len(by_client), sessions[g], measure(ivs) / 3600, round(nbytes[g]), top,
            slots.hours[slots.index(at)] if at is not None else None, edu_sessions[g], len(edu_users[g]),
            hll.pack(hll.sketch(by_client, hll_cache)),
        ))  # fmt: skip
    for key, users in sorted(realm_users.items()):
        out.realm.append((day, *key, realm_sessions[key], len(users), hll.pack(hll.sketch(users, hll_cache))))
    for site, by_client in sorted(site_clients.items()):
        top, at = peak(_per_client(by_client))
        out.site.append((
            day, site, len(by_client), top, slots.hours[slots.index(at)] if at is not None else None,
            hll.pack(hll.sketch(by_client, hll_cache)),
        ))  # fmt: skip
        present: dict[int, set] = defaultdict(set)
        seconds: dict[int, float] = defaultdict(float)
        for client, ivs in by_client.items():
            for s, e in union(ivs):
                for i in slots.span(s, e):
                    hour = slots.hours[i]
                    present[hour].add(client)
                    seconds[hour] += max(0.0, min(e, slots.starts[i] + 3600) - max(s, slots.starts[i]))
        for hour in sorted(set(present) | {h for (s, h) in hour_sessions if s == site}):
            out.hourly.append((day, site, hour, len(present[hour]), seconds[hour] / 3600, hour_sessions[(site, hour)]))
    for mac in sorted(set(ap_clients) | set(sample_peaks)):
        by_client = ap_clients.get(mac, {})
        ivs = _per_client(by_client)
        top, at = peak(ivs)
        if mac in sample_peaks and sample_peaks[mac][0] > top:
            top, at = sample_peaks[mac]
        name, known_site = ap_info.get(mac, ("", None))
        # the site most of its visits were at (an AP moved that day: the first such site by name)
        site = max(sorted(ap_site[mac].items()), key=lambda kv: kv[1])[0] if ap_site[mac] else known_site or UNASSIGNED
        out.ap.append((
            day, mac, name or "(unnamed AP)", site, ap_sessions[mac], len(by_client), measure(ivs) / 3600, top,
            slots.hours[slots.index(at)] if at is not None else None,
        ))  # fmt: skip
    return out


# -- the store side ---------------------------------------------------------------


def table_exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _longest(conn, has_radius: bool) -> float:
    """The longest session, so a day's query can bound how far back a session overlapping it started."""
    span = conn.execute("SELECT max(coalesce(end, last_seen) - start) FROM wifi_sessions").fetchone()[0] or 0.0
    if has_radius:
        r = conn.execute("SELECT max(coalesce(stop, last_update, start) - start) FROM radius_sessions").fetchone()[0]
        span = max(span, r or 0.0)
    return float(span)


def _overlapping(conn, where: str, args: tuple, has_radius: bool) -> list[Row]:
    """Both sources' sessions matching ``where`` over (start, end) columns named ``s`` and ``e``."""
    rows = conn.execute(
        "SELECT * FROM (SELECT 'w', client, ssid, ap_mac, site_id, start AS s, coalesce(end, last_seen) AS e, "
        "bytes_rx + bytes_tx, eduroam, realm, user FROM wifi_sessions) WHERE " + where,
        args,
    ).fetchall()
    if has_radius:
        rows += conn.execute(
            "SELECT * FROM (SELECT 'r', coalesce(client, user, nas || ':' || session_key), coalesce(ssid, ''), "
            "coalesce(ap_mac, ''), site_id, start AS s, max(start, coalesce(stop, last_update, start)) AS e, "
            "coalesce(input_octets, 0) + coalesce(output_octets, 0), coalesce(eduroam, 0), realm, user "
            "FROM radius_sessions) WHERE " + where,
            args,
        ).fetchall()
    return [tuple(r) for r in rows]


def _reach(rows: list[Row], lo: float, hi: float) -> tuple[float, float]:
    """The earliest start and latest end of the visits (as joined from ``rows``) touching [lo, hi]."""
    a, b = lo, hi
    for group in components(rows):
        if any(r[5] <= hi and r[6] >= lo for r in group):
            a = min(a, min(r[5] for r in group))
            b = max(b, max(r[6] for r in group))
    return a, b


def fetch(conn, lo: float, hi: float, lookback: float, has_radius: bool) -> list[Row]:
    """Every session of every visit touching [lo, hi], whatever range is rebuilt.

    A visit can reach beyond the day (a RADIUS session the evening before joining two controller sessions), so
    the window widens to the reach of the visits touching [lo, hi] until that reach stops growing: every
    session joining one of them overlaps the window and is read. Each round reads only the new slices.
    """
    # SQLite uses the start index only through a literal range on start: ``lookback`` bounds it from below.
    a, b = lo - MARGIN, hi + MARGIN
    rows = _overlapping(conn, "s >= ? AND s <= ? AND e >= ?", (a - lookback, b, a), has_radius)
    if not has_radius:
        return rows  # controller sessions alone never join: a visit is one session
    for _ in range(MAX_WIDEN):
        na, nb = _reach(rows, lo, hi)
        if na >= a and nb <= b:
            return rows
        if na < a:
            rows += _overlapping(conn, "s >= ? AND s < ? AND e >= ? AND e < ?", (na - lookback, a, na, a), has_radius)
        if nb > b:
            rows += _overlapping(conn, "s > ? AND s <= ?", (b, nb), has_radius)
        a, b = min(a, na), max(b, nb)
    log.warning("usage: visits still growing after %d widenings of %s..%s; the day may depend on the range",
                MAX_WIDEN, lo, hi)  # fmt: skip
    return rows


def _sample_peaks(conn, lo: float, hi: float) -> dict[str, tuple[int, float]]:
    """Per AP, the most clients the controller counted at one poll (all SSIDs), and when."""
    out: dict[str, tuple[int, float]] = {}
    for mac, ts, n in conn.execute(
        "SELECT ap_mac, ts, sum(clients) FROM wifi_samples WHERE ts >= ? AND ts < ? AND ap_mac != '' "
        "GROUP BY ap_mac, ts",
        (lo, hi),
    ):
        if mac not in out or n > out[mac][0]:
            out[mac] = (int(n), ts)
    return out


@dataclass
class RebuildResult:
    days: list[str] = field(default_factory=list)
    skipped_pruned: list[str] = field(default_factory=list)
    source_sessions: int = 0
    seconds: float = 0.0


def rebuild(
    store: Store,
    first: date,
    last: date,
    tz: ZoneInfo,
    now: float | None = None,
    progress: Callable[[date], None] | None = None,
) -> RebuildResult:
    """Aggregate every local day from ``first`` to ``last``.

    Days go in chunks of :data:`CHUNK_DAYS`: one transaction reads the chunk's sessions (with margins) and
    replaces each of its days' rows, so every day is replaced whole or not at all.
    """
    from netmon import usage_arrays

    t0 = time.perf_counter()
    now = time.time() if now is None else now
    conn = store.conn
    has_radius = table_exists(conn, "radius_sessions")
    lookback = _longest(conn, has_radius)
    site_names = {r[0]: r[1] for r in conn.execute("SELECT id, name FROM sites")}
    ap_info = {
        r[0]: (r[1], site_names.get(r[2]))
        for r in conn.execute("SELECT mac, name, site_id FROM access_points ORDER BY last_seen")
    }
    tables = usage_arrays.Tables.new()
    result = RebuildResult()
    todo = days(first, last)
    for k in range(0, len(todo), CHUNK_DAYS):
        chunk = todo[k : k + CHUNK_DAYS]
        lo, hi = day_window(chunk[0], tz)[0], day_window(chunk[-1], tz)[1]
        with store.transaction() as c:
            pruned = {
                r[0]
                for r in c.execute(
                    "SELECT day FROM usage_days WHERE pruned = 1 AND day >= ? AND day <= ?",
                    (chunk[0].isoformat(), chunk[-1].isoformat()),
                )
            }
            rows = fetch(c, lo, hi, lookback, has_radius)
            arrays = usage_arrays.visit_arrays(rows, site_names, tables)
            for day in chunk:
                key = day.isoformat()
                if key in pruned:
                    result.skipped_pruned.append(key)
                    continue
                d_lo, d_hi = day_window(day, tz)
                agg = usage_arrays.aggregate(
                    key, d_lo, d_hi, Slots.of(d_lo, d_hi, tz), arrays, tables, ap_info, _sample_peaks(c, d_lo, d_hi)
                )
                _replace(c, key, agg, tz, now, d_hi, int(np.count_nonzero((arrays.s < d_hi) & (arrays.e >= d_lo))))
                result.days.append(key)
                if progress is not None:
                    progress(day)
        result.source_sessions += len(rows)
    result.seconds = time.perf_counter() - t0
    return result


def _replace(c, key: str, agg: DayRows, tz: ZoneInfo, now: float, hi: float, sessions: int) -> None:
    for table in TABLES:
        c.execute(f"DELETE FROM {table} WHERE day = ?", (key,))
    c.executemany(f"INSERT INTO usage_daily VALUES ({_marks(12)})", agg.daily)
    c.executemany(f"INSERT INTO usage_site_daily VALUES ({_marks(6)})", agg.site)
    c.executemany(f"INSERT INTO usage_daily_realm VALUES ({_marks(7)})", agg.realm)
    c.executemany(f"INSERT INTO usage_hourly VALUES ({_marks(6)})", agg.hourly)
    c.executemany(f"INSERT INTO usage_ap_daily VALUES ({_marks(9)})", agg.ap)
    c.execute(
        "INSERT OR REPLACE INTO usage_days (day, tz, built_at, complete, pruned, source_sessions) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        (key, tz.key, now, int(now >= hi), sessions),
    )


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def incomplete_days(store: Store, first: date, last: date) -> list[date]:
    """Days in the range never aggregated, or aggregated before they ended (and not yet pruned)."""
    done = {
        r[0]
        for r in store.conn.execute(
            "SELECT day FROM usage_days WHERE day >= ? AND day <= ? AND (complete = 1 OR pruned = 1)",
            (first.isoformat(), last.isoformat()),
        )
    }
    return [d for d in days(first, last) if d.isoformat() not in done]


def runs(dates: list[date]) -> list[tuple[date, date]]:
    """Consecutive dates as (first, last) ranges."""
    out: list[list[date]] = []
    for d in sorted(dates):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1][1] = d
        else:
            out.append([d, d])
    return [(a, b) for a, b in out]


def recent(store: Store, tz: ZoneInfo, now: float | None = None) -> RebuildResult:
    """The scheduler's job: yesterday (late sessions closing) and today so far."""
    now = time.time() if now is None else now
    today = local_day(now, tz)
    return rebuild(store, today - timedelta(days=1), today, tz, now=now)
