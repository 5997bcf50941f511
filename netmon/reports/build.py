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


def _check_sites(store, sites: list[str]) -> None:
    known = store.usage_site_names()
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise UnknownSite(f"unknown site {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known)) or 'none'})")


def report(store, first: date, last: date, tz: ZoneInfo, sites: list[str], threshold: int) -> data.Report:
    """The report's data; days of the period (and of the previous one) never aggregated, or aggregated while
    still running, are aggregated first, so a report is never short of sessions that are in the store."""
    _check_sites(store, sites)
    prev_first = first - (last - first) - timedelta(days=1)
    today = usage.local_day(time.time(), tz)
    todo = store.incomplete_usage_days(prev_first, min(last, today)) if prev_first <= today else []
    if todo and store.has_raw_usage(todo[0], todo[-1], tz):
        for a, b in usage.runs(todo):
            store.rebuild_usage(a, b, tz)
    return data.load(store, first, last, sites, threshold, tz.key)


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
