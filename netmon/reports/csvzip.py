"""The report as tidy CSV tables in one zip: one file per section, one row per observation, raw values."""

from __future__ import annotations

import csv
import io
import zipfile

from netmon.reports.data import Report

ORDER = ("totals", "sites", "daily", "heatmap", "eduroam_share", "realms", "busiest_aps", "hotspots", "growth")


def _csv(columns: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def render(report: Report) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        about = [
            ["from", report.first.isoformat()],
            ["to", report.last.isoformat()],
            ["previous_from", report.prev_first.isoformat()],
            ["previous_to", report.prev_last.isoformat()],
            ["sites", report.scope],
            ["timezone", report.timezone],
            ["capacity_threshold", report.threshold],
            ["generated", report.generated.isoformat(timespec="seconds")],
        ] + [["note", n] for n in report.notes]
        z.writestr("about.csv", _csv(["key", "value"], about))
        for name in ORDER:
            table = report.tables[name]
            z.writestr(f"{name}.csv", _csv(table.columns, table.rows))
    return buf.getvalue()
