"""The report's figures: matplotlib ``Figure`` objects (no pyplot, no display, no shared state).

HTML embeds them as PNG data URIs (:func:`png`); the PDF writes them as
vector pages. Each figure is one section's table drawn, nothing more.
"""

from __future__ import annotations

import io
from datetime import date

import numpy as np
from matplotlib.figure import Figure

from netmon.reports.data import WEEKDAYS, Report

WIDE = (10, 3.6)
BLUE, ORANGE, GREEN, RED, GREY = "#1f6fb4", "#e8871e", "#2e9b4f", "#c8372d", "#8a8f98"


def _figure(size=WIDE) -> Figure:
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    return fig


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e3e6ea", linewidth=0.8)
    ax.set_axisbelow(True)


def daily_trend(report: Report) -> Figure:
    rows = report.tables["daily"].rows
    days = [date.fromisoformat(r[0]) for r in rows]
    clients = np.array([r[2] for r in rows], dtype=float)
    sessions = np.array([r[3] for r in rows], dtype=float)
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    ax.plot(days, sessions, color=ORANGE, linewidth=1, alpha=0.8, label="sessions")
    ax.plot(days, clients, color=BLUE, linewidth=1, alpha=0.6 if len(days) > 21 else 1, label="unique clients")
    if len(days) > 21:
        week = np.convolve(clients, np.ones(7) / 7, mode="valid")
        ax.plot(days[6:], week, color=BLUE, linewidth=2.4, label="unique clients, 7-day average")
    if len(days) == 1:
        ax.bar(days, clients, color=BLUE, width=0.4)
    ax.set_ylim(bottom=0)
    ax.set_title("Daily unique clients and sessions", loc="left", fontsize=11)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=3)
    fig.autofmt_xdate()
    return fig


def heat_map(report: Report) -> Figure:
    fig = _figure((10, 3.4))
    ax = fig.add_subplot()
    image = ax.imshow(report.heat, aspect="auto", cmap="YlOrRd", interpolation="nearest", vmin=0)
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)], fontsize=8)
    ax.set_title("Average clients connected at once, hour of day x day of week", loc="left", fontsize=11)
    fig.colorbar(image, ax=ax, label="clients", shrink=0.9)
    return fig


def eduroam_share(report: Report) -> Figure:
    table = report.tables["eduroam_share"]
    when = [date.fromisoformat(r[0]) for r in table.rows]
    share = np.array([np.nan if r[3] is None else 100 * r[3] for r in table.rows])
    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    ax.plot(when, share, color=GREEN, linewidth=2, marker="o" if len(when) < 40 else None, markersize=3)
    ax.fill_between(when, 0, np.nan_to_num(share), color=GREEN, alpha=0.15)
    ax.set_ylim(0, max(5.0, float(np.nanmax(share)) * 1.2) if np.isfinite(share).any() else 5.0)
    ax.set_ylabel("% of sessions")
    per = "week" if table.columns[0] == "week_starting" else "day"
    ax.set_title(f"eduroam share of sessions, per {per}", loc="left", fontsize=11)
    fig.autofmt_xdate()
    return fig


def _barh(title: str, labels: list[str], values: list[float], colors, xlabel: str) -> Figure:
    fig = _figure((10, 0.9 + 0.32 * max(3, len(labels))))
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e3e6ea", linewidth=0.8)
    y = np.arange(len(labels))
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    return fig


def realms(report: Report) -> Figure:
    rows = report.tables["realms"].rows
    return _barh("eduroam sessions by home realm", [r[0] for r in rows], [r[1] for r in rows], GREEN, "sessions")


def busiest_aps(report: Report) -> Figure:
    rows = report.tables["busiest_aps"].rows
    colors = [RED if r[4] >= report.threshold else BLUE for r in rows]
    return _barh(
        f"Busiest access points (red: peak of {report.threshold}+ clients)",
        [f"{r[0]} ({r[1]})" for r in rows],
        [r[2] for r in rows],
        colors,
        "sessions",
    )


def growth(report: Report) -> Figure:
    rows = [r for r in report.tables["growth"].rows if r[3] is not None][:12]
    values = [100 * r[3] for r in rows]
    return _barh(
        "Change in unique clients against the previous period",
        [r[0] for r in rows],
        values,
        [GREEN if v >= 0 else RED for v in values],
        "% change",
    )


def all_charts(report: Report) -> dict[str, Figure]:
    """Section name -> figure; sections without anything to draw get none."""
    out = {"daily": daily_trend(report), "heatmap": heat_map(report), "eduroam_share": eduroam_share(report)}
    if report.tables["realms"].rows:
        out["realms"] = realms(report)
    if report.tables["busiest_aps"].rows:
        out["busiest_aps"] = busiest_aps(report)
    if any(r[3] is not None for r in report.tables["growth"].rows):
        out["growth"] = growth(report)
    return out


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
