"""How a report cell reads: one function for the HTML and the PDF (CSV keeps raw values)."""

from __future__ import annotations

from netmon.reports.data import human_bytes


def show(value, kind: str) -> str:
    if value is None:
        return "n/a" if kind == "change" else "–"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "hours":
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if kind == "float":
        if isinstance(value, str):
            return value
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.1f}"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "change":
        return f"{100 * value:+.1f} %"
    if kind == "bytes":
        return human_bytes(value)
    return str(value)


def sort_key(value, kind: str) -> str:
    """What a sortable HTML column sorts on: the raw number, or the text."""
    if value is None:
        return "-1e300" if kind in ("int", "hours", "float", "pct", "change", "bytes") else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value))
    return str(value)
