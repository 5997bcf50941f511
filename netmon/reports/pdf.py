"""The report as a PDF, drawn by matplotlib (PdfPages): the same sections, tables and charts as the HTML.

No browser is needed: every page is a matplotlib figure (A4 landscape),
tables are split over as many pages as they need.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from netmon.reports import charts
from netmon.reports.data import Report, Table
from netmon.reports.fmt import show
from netmon.reports.html import LONG_TABLE, SECTIONS

A4 = (11.69, 8.27)
ROWS_PER_PAGE = 24


def _page(title: str) -> Figure:
    fig = Figure(figsize=A4, dpi=100)
    fig.text(0.04, 0.95, title, fontsize=16, weight="bold", va="top")
    return fig


def _table_pages(pdf: PdfPages, title: str, table: Table) -> None:
    rows = table.rows or [["None in this period."] + [""] * (len(table.columns) - 1)]
    chunks = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)]
    for n, chunk in enumerate(chunks):
        fig = _page(title + (f" ({n + 1}/{len(chunks)})" if len(chunks) > 1 else ""))
        if table.note and n == 0:
            fig.text(0.04, 0.90, textwrap.fill(table.note, 150), fontsize=9, color="#5b646e", va="top")
        ax = fig.add_axes((0.04, 0.04, 0.92, 0.82))
        ax.axis("off")
        base = n * ROWS_PER_PAGE
        cells = [[show(v, table.kind(base + i, j)) if table.rows else v for j, v in enumerate(r)]
                 for i, r in enumerate(chunk)]  # fmt: skip
        t = ax.table(cellText=cells, colLabels=[table.label(c) for c in table.columns], loc="upper center",
                     cellLoc="left", colLoc="left")  # fmt: skip
        t.auto_set_font_size(False)
        t.set_fontsize(8)
        t.scale(1, 1.35)
        for (r, _c), cell in t.get_celld().items():
            cell.set_edgecolor("#e3e6ea")
            if r == 0:
                cell.set_facecolor("#f1f3f5")
                cell.set_text_props(weight="bold")
        pdf.savefig(fig)


def render(report: Report) -> bytes:
    figures = charts.all_charts(report)
    buf = io.BytesIO()
    meta = {"Title": f"Public Wi-Fi usage {report.first} to {report.last}", "Creator": "netmon"}
    with PdfPages(buf, metadata=meta) as pdf:
        fig = _page(f"Public Wi-Fi usage, {report.first:%d %B %Y} to {report.last:%d %B %Y}")
        fig.text(0.04, 0.90, f"{report.scope} · {report.days} days · compared with {report.prev_first} to "
                 f"{report.prev_last}", fontsize=11, color="#5b646e", va="top")  # fmt: skip
        for i, (label, value, detail) in enumerate(report.headline):
            x, y = 0.04 + (i % 3) * 0.31, 0.78 - (i // 3) * 0.2
            fig.text(x, y, label, fontsize=11, color="#5b646e", va="top")
            fig.text(x, y - 0.04, value, fontsize=22, weight="bold", va="top")
            fig.text(x, y - 0.11, detail, fontsize=9, color="#5b646e", va="top")
        notes = "\n".join(textwrap.fill(n, 160) for n in report.notes)
        fig.text(0.04, 0.34, notes, fontsize=8.5, color="#5b646e", va="top")
        pdf.savefig(fig)
        _table_pages(pdf, "Totals", report.tables["totals"])
        for name, title, chart in SECTIONS:
            table = report.tables[name]
            if chart and chart in figures:
                chart_fig = figures[chart]
                chart_fig.set_size_inches(*A4)  # every page A4 landscape: the layout re-flows to fill it
                chart_fig.suptitle(title, x=0.02, ha="left", fontsize=14, weight="bold")
                pdf.savefig(chart_fig)
            if not (chart and (name == "heatmap" or len(table.rows) > LONG_TABLE)):
                _table_pages(pdf, title, table)
    return buf.getvalue()
