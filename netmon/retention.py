"""Retention: raw Wi-Fi sessions and samples go after N days; the daily aggregates stay.

Raw sessions name residents (by pseudonym) and grow by millions a year;
planners need only the aggregates. Pruning works on whole local days: the
cut-off is the midnight N days back, every day before it is aggregated
first if it never was (or only while it was still running), and is then
marked final (``usage_days.pruned``), so a later ``netmon usage rebuild``
cannot overwrite it from the partial raw data left. An open session
(``end``/``stop`` NULL) is never pruned, however old its start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from netmon import usage

if TYPE_CHECKING:
    from netmon.store import Store


@dataclass
class PruneResult:
    cutoff_day: str
    aggregated_first: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def prune(store: Store, keep_days: int, tz: ZoneInfo, now: float | None = None, dry_run: bool = False) -> PruneResult:
    if keep_days < 1:
        raise ValueError("retention must keep at least 1 day")
    now = time.time() if now is None else now
    cutoff_day = usage.local_day(now, tz) - timedelta(days=keep_days)
    cutoff = usage.day_window(cutoff_day, tz)[0]
    conn = store.conn
    has_radius = usage.table_exists(conn, "radius_sessions")
    queries = {
        "wifi_sessions": ("SELECT min(start), count(*) FROM wifi_sessions WHERE end IS NOT NULL AND end < ?",
                          "DELETE FROM wifi_sessions WHERE end IS NOT NULL AND end < ?"),
        "wifi_samples": ("SELECT min(ts), count(*) FROM wifi_samples WHERE ts < ?",
                         "DELETE FROM wifi_samples WHERE ts < ?"),
    }  # fmt: skip
    if has_radius:
        queries["radius_sessions"] = (
            "SELECT min(start), count(*) FROM radius_sessions WHERE stop IS NOT NULL AND stop < ?",
            "DELETE FROM radius_sessions WHERE stop IS NOT NULL AND stop < ?",
        )
    # F-Ticks events carry a station pseudonym; their per-day counts (fticks_counts) are kept like the aggregates.
    raw_only = {}
    if usage.table_exists(conn, "fticks_events"):
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
        todo = usage.incomplete_days(store, usage.local_day(oldest, tz), cutoff_day - timedelta(days=1))
    result.aggregated_first = [d.isoformat() for d in todo]
    if dry_run:
        return result
    queries.update(raw_only)
    for first, last in usage.runs(todo):
        usage.rebuild(store, first, last, tz, now=now)
    with store.transaction() as c:
        for table, (_, delete_sql) in queries.items():
            result.deleted[table] = c.execute(delete_sql, (cutoff,)).rowcount
        c.execute("UPDATE usage_days SET pruned = 1 WHERE day < ?", (cutoff_day.isoformat(),))
    return result
