"""Usage in the store: daily aggregates rebuilt from the raw sessions, retention, and the reports' reads.

A rebuild of a day deletes and inserts that day's rows in one transaction:
running it again gives the same rows. Days whose raw sessions were pruned
are final and never rebuilt. The maths is :mod:`netmon.usage` (pure); this
module reads the sessions it needs and writes what it computes.

Retention: raw Wi-Fi sessions and samples go after N days; the daily aggregates stay. The first poll kept
of each controller becomes a full one (:func:`netmon.store.wifi.prune_counts`): the counts it held stay readable.

Raw sessions name residents (by pseudonym) and grow by millions a year;
planners need only the aggregates. Pruning works on whole local days: the
cut-off is the midnight N days back, every day before it is aggregated
first if it never was (or only while it was still running), and is then
marked final (``usage_days.pruned``), so a later ``netmon usage rebuild``
cannot overwrite it from the partial raw data left. An open session
(``end``/``stop`` NULL) is never pruned, however old its start.

Reports read only the ``usage_*`` tables, through the named reads at the end
(typed rows), so no pseudonym, MAC or user name can reach them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from netmon.store.db import Database, marks, table_exists
from netmon.store.wifi import poll_counts, prune_counts
from netmon.usage import Row, Slots, arrays, day_window, days, local_day, reach, runs
from netmon.usage.definition import DayRows

log = logging.getLogger(__name__)

# Sessions this far outside the day are read in the first round (:func:`fetch` widens further when a visit
# reaches beyond): most visits joined across midnight are then complete without a second query.
MARGIN = 6 * 3600.0
# Rounds of widening the read window: each one adds at least a session to a visit touching the day, so only a
# pathological chain of ever-overlapping sessions reaches it (it is logged).
MAX_WIDEN = 64
# Days read and replaced per transaction: a week of a city's sessions is a few tens of thousands of rows.
CHUNK_DAYS = 7
TABLES = ("usage_daily", "usage_site_daily", "usage_daily_realm", "usage_hourly", "usage_ap_daily")


def longest_session(conn, has_radius: bool) -> float:
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
        na, nb = reach(rows, lo, hi)
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
    """Per AP, the most clients the controller counted at one poll (all SSIDs), and when (the first such poll).

    Every poll counts with what it held, changed or not: polls at the same instant (two controllers listing the
    AP) add up, as their rows did when every poll wrote every count."""
    totals: dict[tuple[str, float], int] = {}
    for poll in poll_counts(conn, lo, hi):
        for (mac, _ssid), n in poll.counts.items():
            if mac:
                totals[(mac, poll.ts)] = totals.get((mac, poll.ts), 0) + n
    out: dict[str, tuple[int, float]] = {}
    for (mac, ts), n in sorted(totals.items()):
        if mac not in out or n > out[mac][0]:
            out[mac] = (int(n), ts)
    return out


@dataclass
class RebuildResult:
    days: list[str] = field(default_factory=list)
    skipped_pruned: list[str] = field(default_factory=list)
    source_sessions: int = 0
    seconds: float = 0.0


@dataclass
class PruneResult:
    cutoff_day: str
    aggregated_first: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def _replace(c, key: str, agg: DayRows, tz: ZoneInfo, now: float, hi: float, sessions: int) -> None:
    for table in TABLES:
        c.execute(f"DELETE FROM {table} WHERE day = ?", (key,))
    c.executemany(f"INSERT INTO usage_daily VALUES ({marks(12)})", agg.daily)
    c.executemany(f"INSERT INTO usage_site_daily VALUES ({marks(6)})", agg.site)
    c.executemany(f"INSERT INTO usage_daily_realm VALUES ({marks(7)})", agg.realm)
    c.executemany(f"INSERT INTO usage_hourly VALUES ({marks(6)})", agg.hourly)
    c.executemany(f"INSERT INTO usage_ap_daily VALUES ({marks(9)})", agg.ap)
    c.execute(
        "INSERT OR REPLACE INTO usage_days (day, tz, built_at, complete, pruned, source_sessions) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        (key, tz.key, now, int(now >= hi), sessions),
    )


# -- the reports' reads: typed rows of the usage_* tables, for a period and (optionally) some sites ------------


class SiteTotals(NamedTuple):
    site: str
    sessions: int
    connected_hours: float
    bytes: int
    eduroam_sessions: int


class DayTotals(NamedTuple):
    day: str
    sessions: int
    connected_hours: float
    bytes: int
    eduroam_sessions: int


class SiteDay(NamedTuple):
    day: str
    site: str
    clients: int
    peak_clients: int
    peak_hour: int | None
    clients_hll: bytes


class HourTotal(NamedTuple):
    day: str
    hour: int
    connected_hours: float


class RealmDay(NamedTuple):
    realm: str
    sessions: int
    users: int
    users_hll: bytes


class ApDay(NamedTuple):
    ap_mac: str
    ap_name: str
    site: str
    sessions: int
    connected_hours: float
    peak_clients: int
    day: str
    peak_hour: int | None


# The period's bytes, saturated like each day's (:func:`netmon.usage.definition.saturated`): SQLite's sum() of
# two saturated days would raise "integer overflow"; total() is a REAL, and CAST clamps it to the largest INTEGER.
_SATURATED_BYTES = "CAST(min(total(bytes), 9.2233720368547758e18) AS INTEGER)"


def _period(first: date, last: date, sites: list[str] | tuple[str, ...]) -> tuple[str, list]:
    sql = "day >= ? AND day <= ?"
    args: list = [first.isoformat(), last.isoformat()]
    if sites:
        sql += f" AND site IN ({marks(sites)})"
        args += list(sites)
    return sql, args


class UsageStore(Database):
    def rebuild_usage(
        self,
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
        t0 = time.perf_counter()
        now = time.time() if now is None else now
        conn = self.conn
        has_radius = table_exists(conn, "radius_sessions")
        lookback = longest_session(conn, has_radius)
        site_names = {r[0]: r[1] for r in conn.execute("SELECT id, name FROM sites")}
        ap_info = {
            r[0]: (r[1], site_names.get(r[2]))
            for r in conn.execute("SELECT mac, name, site_id FROM access_points ORDER BY last_seen")
        }
        tables = arrays.Tables.new()
        result = RebuildResult()
        todo = days(first, last)
        for k in range(0, len(todo), CHUNK_DAYS):
            chunk = todo[k : k + CHUNK_DAYS]
            lo, hi = day_window(chunk[0], tz)[0], day_window(chunk[-1], tz)[1]
            with self.transaction() as c:
                pruned = {
                    r[0]
                    for r in c.execute(
                        "SELECT day FROM usage_days WHERE pruned = 1 AND day >= ? AND day <= ?",
                        (chunk[0].isoformat(), chunk[-1].isoformat()),
                    )
                }
                rows = fetch(c, lo, hi, lookback, has_radius)
                visits = arrays.visit_arrays(rows, site_names, tables)
                for day in chunk:
                    key = day.isoformat()
                    if key in pruned:
                        result.skipped_pruned.append(key)
                        continue
                    d_lo, d_hi = day_window(day, tz)
                    agg = arrays.aggregate(
                        key, d_lo, d_hi, Slots.of(d_lo, d_hi, tz), visits, tables, ap_info,
                        _sample_peaks(c, d_lo, d_hi),
                    )  # fmt: skip
                    touching = int(np.count_nonzero((visits.s < d_hi) & (visits.e >= d_lo)))
                    _replace(c, key, agg, tz, now, d_hi, touching)
                    result.days.append(key)
                    if progress is not None:
                        progress(day)
            result.source_sessions += len(rows)
        result.seconds = time.perf_counter() - t0
        return result

    def rebuild_recent_usage(self, tz: ZoneInfo, now: float | None = None) -> RebuildResult:
        """The scheduler's job: yesterday (late sessions closing) and today so far."""
        now = time.time() if now is None else now
        today = local_day(now, tz)
        return self.rebuild_usage(today - timedelta(days=1), today, tz, now=now)

    def incomplete_usage_days(self, first: date, last: date) -> list[date]:
        """Days in the range never aggregated, or aggregated before they ended (and not yet pruned)."""
        done = {
            r[0]
            for r in self.conn.execute(
                "SELECT day FROM usage_days WHERE day >= ? AND day <= ? AND (complete = 1 OR pruned = 1)",
                (first.isoformat(), last.isoformat()),
            )
        }
        return [d for d in days(first, last) if d.isoformat() not in done]

    def has_raw_usage(self, first: date, last: date, tz: ZoneInfo) -> bool:
        """Whether raw sessions (or controller samples) of those local days are still in the store."""
        lo, hi = day_window(first, tz)[0], day_window(last, tz)[1]
        conn = self.conn
        if conn.execute("SELECT 1 FROM wifi_sessions WHERE start < ? AND coalesce(end, last_seen) >= ? LIMIT 1",
                        (hi, lo)).fetchone():  # fmt: skip
            return True
        if table_exists(conn, "radius_sessions"):
            return bool(conn.execute("SELECT 1 FROM radius_sessions WHERE start < ? LIMIT 1", (hi,)).fetchone())
        return bool(conn.execute("SELECT 1 FROM wifi_polls WHERE ts >= ? AND ts < ? LIMIT 1", (lo, hi)).fetchone())

    def apply_retention(
        self, keep_days: int, tz: ZoneInfo, now: float | None = None, dry_run: bool = False
    ) -> PruneResult:
        """Prune raw sessions, samples and F-Ticks events before the local midnight ``keep_days`` back, their days
        aggregated first (see the module's docstring)."""
        if keep_days < 1:
            raise ValueError("retention must keep at least 1 day")
        now = time.time() if now is None else now
        cutoff_day = local_day(now, tz) - timedelta(days=keep_days)
        cutoff = day_window(cutoff_day, tz)[0]
        conn = self.conn
        queries = {
            "wifi_sessions": ("SELECT min(start), count(*) FROM wifi_sessions WHERE end IS NOT NULL AND end < ?",
                              "DELETE FROM wifi_sessions WHERE end IS NOT NULL AND end < ?"),
            "wifi_samples": ("SELECT (SELECT min(ts) FROM wifi_polls WHERE ts < ?1), (SELECT count(*) FROM "
                             "wifi_counts c JOIN wifi_polls p ON p.id = c.poll_id WHERE p.ts < ?1)", prune_counts),
        }  # fmt: skip
        if table_exists(conn, "radius_sessions"):
            queries["radius_sessions"] = (
                "SELECT min(start), count(*) FROM radius_sessions WHERE stop IS NOT NULL AND stop < ?",
                "DELETE FROM radius_sessions WHERE stop IS NOT NULL AND stop < ?",
            )
        # F-Ticks events carry a station pseudonym; their per-day counts (fticks_counts) are kept like the aggregates.
        raw_only = {}
        if table_exists(conn, "fticks_events"):
            raw_only["fticks_events"] = (
                "SELECT min(ts), count(*) FROM fticks_events WHERE ts < ?",
                "DELETE FROM fticks_events WHERE ts < ?",
            )
        result = PruneResult(cutoff_day.isoformat(), dry_run=dry_run)
        oldest = None
        for table, (count_sql, _) in queries.items():
            first, n = conn.execute(count_sql, (cutoff,)).fetchone()
            result.deleted[table] = n
            if first is not None:
                oldest = first if oldest is None else min(oldest, first)
        for table, (count_sql, _) in raw_only.items():
            result.deleted[table] = conn.execute(count_sql, (cutoff,)).fetchone()[1]
        if oldest is None and not any(result.deleted.values()):
            return result
        todo = []
        if oldest is not None:
            todo = self.incomplete_usage_days(local_day(oldest, tz), cutoff_day - timedelta(days=1))
        result.aggregated_first = [d.isoformat() for d in todo]
        if dry_run:
            return result
        queries.update(raw_only)
        for first, last in runs(todo):
            self.rebuild_usage(first, last, tz, now=now)
        with self.transaction() as c:
            for table, (_, delete_sql) in queries.items():
                if callable(delete_sql):
                    result.deleted[table] = delete_sql(c, cutoff)
                else:
                    result.deleted[table] = c.execute(delete_sql, (cutoff,)).rowcount
            c.execute("UPDATE usage_days SET pruned = 1 WHERE day < ?", (cutoff_day.isoformat(),))
        return result

    # -- reads for the reports -------------------------------------------------------------------------------

    def usage_site_names(self) -> set[str]:
        """Sites a report may name: the inventory's, and those in aggregates (a site removed since)."""
        known = {r[0] for r in self.conn.execute("SELECT name FROM sites")}
        return known | {r[0] for r in self.conn.execute("SELECT DISTINCT site FROM usage_site_daily")}

    def usage_site_totals(self, first: date, last: date, sites=()) -> list[SiteTotals]:
        where, args = _period(first, last, sites)
        return [SiteTotals(*r) for r in self.conn.execute(
            f"SELECT site, sum(sessions), sum(connected_hours), {_SATURATED_BYTES}, sum(eduroam_sessions) "
            f"FROM usage_daily WHERE {where} GROUP BY site", args)]  # fmt: skip

    def usage_day_totals(self, first: date, last: date, sites=()) -> list[DayTotals]:
        where, args = _period(first, last, sites)
        return [DayTotals(*r) for r in self.conn.execute(
            f"SELECT day, sum(sessions), sum(connected_hours), {_SATURATED_BYTES}, sum(eduroam_sessions) "
            f"FROM usage_daily WHERE {where} GROUP BY day", args)]  # fmt: skip

    def usage_site_days(self, first: date, last: date, sites=()) -> list[SiteDay]:
        """Per site and day (all SSIDs), in day order: distinct clients, their sketch, the peak."""
        where, args = _period(first, last, sites)
        return [SiteDay(*r) for r in self.conn.execute(
            f"SELECT day, site, clients, peak_clients, peak_hour, clients_hll FROM usage_site_daily WHERE {where} "
            "ORDER BY day", args)]  # fmt: skip

    def usage_hour_totals(self, first: date, last: date, sites=()) -> list[HourTotal]:
        where, args = _period(first, last, sites)
        return [
            HourTotal(*r)
            for r in self.conn.execute(
                f"SELECT day, hour, sum(connected_hours) FROM usage_hourly WHERE {where} GROUP BY day, hour", args
            )
        ]

    def usage_realm_days(self, first: date, last: date, sites=()) -> list[RealmDay]:
        where, args = _period(first, last, sites)
        return [
            RealmDay(*r)
            for r in self.conn.execute(
                f"SELECT realm, sessions, users, users_hll FROM usage_daily_realm WHERE {where}", args
            )
        ]

    def usage_ap_days(self, first: date, last: date, sites=()) -> list[ApDay]:
        """Per access point and day, in day order."""
        where, args = _period(first, last, sites)
        return [ApDay(*r) for r in self.conn.execute(
            "SELECT ap_mac, ap_name, site, sessions, connected_hours, peak_clients, day, peak_hour "
            f"FROM usage_ap_daily WHERE {where} ORDER BY day", args)]  # fmt: skip

    def usage_days_in_other_zones(self, first: date, last: date, tz: str) -> list[tuple[str, int]]:
        """(time zone, days) of the period's days aggregated in another zone than ``tz``."""
        return [tuple(r) for r in self.conn.execute(
            "SELECT tz, count(*) FROM usage_days WHERE day >= ? AND day <= ? AND tz != ? GROUP BY tz",
            (first.isoformat(), last.isoformat(), tz))]  # fmt: skip
