"""The report as one self-contained HTML page: inline CSS, charts as PNG data URIs, a few lines of JS to sort.

Nothing is fetched when the page is opened (no CDN, no web font): it reads
the same offline, attached to an e-mail or printed.
"""

from __future__ import annotations

import base64
from html import escape

from netmon.reports import charts
from netmon.reports.data import Report, Table
from netmon.reports.fmt import show, sort_key

SECTIONS = [
    ("sites", "Per site", None),
    ("daily", "Daily trend", "daily"),
    ("heatmap", "When people connect", "heatmap"),
    ("eduroam_share", "eduroam share over time", "eduroam_share"),
    ("realms", "Top home realms", "realms"),
    ("busiest_aps", "Busiest access points", "busiest_aps"),
    ("hotspots", "Capacity hot spots", None),
    ("growth", "Sites with the most growth", "growth"),
]
# Long tables (a year's days, the 168 cells of the heat map) stay in the CSV; the page shows their chart.
LONG_TABLE = 31

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; margin: 0;
       background: #f6f7f9; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 2px; } h2 { font-size: 19px; margin: 36px 0 8px; border-bottom: 2px solid #e3e6ea;
  padding-bottom: 4px; }
.sub { color: #5b646e; margin: 0 0 18px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.card { border: 1px solid #e3e6ea; border-radius: 8px; padding: 12px 14px; }
.card .label { color: #5b646e; font-size: 13px; } .card .value { font-size: 24px; font-weight: 650; }
.card .detail { color: #5b646e; font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { padding: 5px 7px; border-bottom: 1px solid #eceef1; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } td.text, th.text { text-align: left; }
.scroll { overflow-x: auto; }
th { background: #f1f3f5; position: sticky; top: 0; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.up { color: #1e7a3c; } td.down { color: #b3261e; }
img.chart { width: 100%; height: auto; display: block; margin: 8px 0; }
.note { color: #5b646e; font-size: 13px; margin: 4px 0; }
footer { margin-top: 36px; color: #5b646e; font-size: 12.5px; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; }
  img.chart { break-inside: avoid; } }
"""

# Click a column header to sort by it (numbers by value, text alphabetically); click again to reverse.
JS = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
    var down = th.getAttribute("aria-sort") !== "descending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v, nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return down ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def _table(t: Table) -> str:
    head = "".join(
        f'<th scope=col class="{"text" if k in ("text", "day") else ""}" title="{escape(c)}">{escape(t.label(c))}</th>'
        for c, k in zip(t.columns, t.kinds, strict=True)
    )
    body = []
    for i, row in enumerate(t.rows):
        cells = []
        for j, value in enumerate(row):
            kind = t.kind(i, j)
            cls = "text" if kind in ("text", "day") and t.kinds[j] != "row" else ""
            if kind == "change" and value is not None:
                cls = "up" if value > 0 else "down" if value < 0 else ""
            cells.append(f'<td class="{cls}" data-v="{escape(sort_key(value, kind))}">{escape(show(value, kind))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td class="text" colspan="{len(t.columns)}">None in this period.</td></tr>')
    return (
        f'<div class="scroll"><table class="sortable" id="t-{t.name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def render(report: Report) -> str:
    figures = charts.all_charts(report)
    images = {name: base64.b64encode(charts.png(fig)).decode("ascii") for name, fig in figures.items()}
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Public Wi-Fi usage {report.first} to {report.last}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Public Wi-Fi usage, {report.first:%d %B %Y} to {report.last:%d %B %Y}</h1>",
        f'<p class="sub">{escape(report.scope)} · {report.days} days · compared with {report.prev_first} to '
        f"{report.prev_last}</p>",
        '<section id="totals"><div class="cards">',
    ]
    for label, value, detail in report.headline:
        out.append(
            f'<div class="card"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div>'
            f'<div class="detail">{escape(detail)}</div></div>'
        )
    out.append("</div>")
    out.append(_table(report.tables["totals"]))
    out.append("</section>")
    for name, title, chart in SECTIONS:
        table = report.tables[name]
        out.append(f'<section id="{name}"><h2>{escape(title)}</h2>')
        if chart and chart in images:
            out.append(
                f'<img class="chart" id="chart-{chart}" alt="{escape(table.title)}" '
                f'src="data:image/png;base64,{images[chart]}">'
            )
        if table.note:
            out.append(f'<p class="note">{escape(table.note)}</p>')
        if chart and (name == "heatmap" or len(table.rows) > LONG_TABLE):
            out.append(f'<p class="note">The numbers behind this chart are in the CSV export ({name}.csv).</p>')
        else:
            out.append(_table(table))
        out.append("</section>")
    out.append("<footer>")
    out += [f"<p>{escape(n)}</p>" for n in report.notes]
    out.append(
        f"<p>Made by netmon on {report.generated:%Y-%m-%d %H:%M %Z} from daily aggregates only: no device address, "
        "pseudonym or user name is in this report.</p></footer>"
    )
    out.append(f"</main><script>{JS}</script></body></html>")
    return "\n".join(out)
