"""``netmon report wifi``: aggregate what is missing, read the report, write it in the asked format."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from netmon import usage
from netmon.reports import data
from netmon.reports.data import NoData

__all__ = ["FORMATS", "NoData", "UnknownSite", "report", "write"]
FORMATS = ("html", "csv", "pdf")


class UnknownSite(ValueError):
    pass


def _check_sites(conn, sites: list[str]) -> None:
    known = {r[0] for r in conn.execute("SELECT name FROM sites")}
    known |= {r[0] for r in conn.execute("SELECT DISTINCT site FROM usage_site_daily")}
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise UnknownSite(f"unknown site {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known)) or 'none'})")


def report(store, first: date, last: date, tz: ZoneInfo, sites: list[str], threshold: int) -> data.Report:
    """The report's data; days of the period (and of the previous one) never aggregated, or aggregated while
    still running, are aggregated first, so a report is never short of sessions that are in the store."""
    _check_sites(store.conn, sites)
    prev_first = first - (last - first) - timedelta(days=1)
    today = usage.local_day(time.time(), tz)
    todo = usage.incomplete_days(store, prev_first, min(last, today)) if prev_first <= today else []
    if todo and _has_raw(store.conn, todo[0], todo[-1], tz):
        for a, b in usage.runs(todo):
            usage.rebuild(store, a, b, tz)
    return data.load(store.conn, first, last, sites, threshold, tz.key)


def _has_raw(conn, first: date, last: date, tz: ZoneInfo) -> bool:
    lo, hi = usage.day_window(first, tz)[0], usage.day_window(last, tz)[1]
    if conn.execute("SELECT 1 FROM wifi_sessions WHERE start < ? AND coalesce(end, last_seen) >= ? LIMIT 1",
                    (hi, lo)).fetchone():  # fmt: skip
        return True
    if usage.table_exists(conn, "radius_sessions"):
        return bool(conn.execute("SELECT 1 FROM radius_sessions WHERE start < ? LIMIT 1", (hi,)).fetchone())
    return bool(conn.execute("SELECT 1 FROM wifi_samples WHERE ts >= ? AND ts < ? LIMIT 1", (lo, hi)).fetchone())


def render(rep: data.Report, fmt: str) -> bytes:
    if fmt == "html":
        from netmon.reports import html

        return html.render(rep).encode("utf-8")
    if fmt == "csv":
        from netmon.reports import csvzip

        return csvzip.render(rep)
    if fmt == "pdf":
        from netmon.reports import pdf

        return pdf.render(rep)
    raise ValueError(f"unknown format {fmt!r}")


def write(store, first: date, last: date, tz: ZoneInfo, fmt: str, out: Path, sites=(), threshold: int = 30) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    rep = report(store, first, last, tz, list(sites), threshold)
    if fmt == "csv" and out.suffix.lower() != ".zip":
        out = out.with_suffix(out.suffix + ".zip") if out.suffix else out.with_suffix(".zip")
    content = render(rep, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(content)
    tmp.replace(out)  # never a half-written report under the real name
    return out
