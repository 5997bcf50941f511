"""The Wi-Fi usage report as data: every section a tidy table, read from the daily aggregates.

Only aggregates are read (``usage_*`` tables): no pseudonym, MAC or user name
can reach a report. Access points are named, never shown by MAC.

Distinct clients over more than one day come from merged HyperLogLog sketches
(:mod:`netmon.usage.hll`, within ~2 %); a single site's single day is exact.
"Years of Wi-Fi" is connected hours / 8,766 (hours in an average year).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from netmon.usage import hll

HOURS_PER_YEAR = 8766
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_APS = 15
TOP_REALMS = 10


class NoData(Exception):
    """Nothing aggregated in the period: the report would be empty."""


@dataclass
class Table:
    """One section's table. ``kinds`` say how to show each column: text int hours pct change bytes float day."""

    name: str
    title: str
    columns: list[str]
    kinds: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""
    row_kinds: list[str] = field(default_factory=list)  # for columns of kind "row": each row says its own
    labels: dict[str, str] = field(default_factory=dict)  # shorter headers on the page and in the PDF

    def label(self, column: str) -> str:
        return self.labels.get(column, column.replace("_", " "))

    def kind(self, row: int, col: int) -> str:
        kind = self.kinds[col]
        return self.row_kinds[row] if kind == "row" else kind


@dataclass
class Report:
    first: date
    last: date
    prev_first: date
    prev_last: date
    timezone: str
    sites: list[str]
    threshold: int
    generated: datetime
    headline: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, detail
    tables: dict[str, Table] = field(default_factory=dict)
    heat: np.ndarray = field(default_factory=lambda: np.zeros((7, 24)))
    notes: list[str] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def scope(self) -> str:
        return ", ".join(self.sites) if self.sites else "all sites"


def change(now: float, before: float) -> float | None:
    """Relative change; None when there was nothing before (new) or nothing at all."""
    if not before:
        return None
    return (now - before) / before


def _distinct(rows: list[tuple[int, bytes]]) -> int:
    """Distinct clients of several (count, sketch) rows: exact for one row, else the merged sketch's estimate."""
    if not rows:
        return 0
    if len(rows) == 1:
        return rows[0][0]
    return hll.estimate(hll.merge(blob for _, blob in rows))


def _period_totals(store, first: date, last: date, sites: list[str]) -> dict:
    per_site: dict[str, dict] = defaultdict(lambda: {"sessions": 0, "hours": 0.0, "bytes": 0, "edu": 0})
    for site, sessions, hours, nbytes, edu in store.usage_site_totals(first, last, sites):
        per_site[site].update(sessions=sessions, hours=hours, bytes=nbytes, edu=edu)
    sketches: dict[str, list] = defaultdict(list)
    peaks: dict[str, tuple] = {}
    for day, site, clients, peak, peak_hour, blob in store.usage_site_days(first, last, sites):
        sketches[site].append((clients, blob))
        if site not in peaks or peak > peaks[site][0]:
            peaks[site] = (peak, day, peak_hour)
    for site in sketches:
        per_site[site]["clients"] = _distinct(sketches[site])
        per_site[site]["peak"] = peaks[site]
    all_rows = [r for rows in sketches.values() for r in rows]
    return {"sites": dict(per_site), "clients": _distinct(all_rows), "rows": len(all_rows)}


def load(store, first: date, last: date, sites: list[str], threshold: int, timezone: str) -> Report:
    n = (last - first).days + 1
    prev_last = first - timedelta(days=1)
    prev_first = prev_last - timedelta(days=n - 1)
    report = Report(first, last, prev_first, prev_last, timezone, list(sites), threshold, datetime.now().astimezone())
    now = _period_totals(store, first, last, sites)
    if not now["rows"]:
        raise NoData(
            f"no Wi-Fi usage for {first} .. {last} ({report.scope}): no sessions were recorded or aggregated in "
            "that period. Sessions are kept only with a pseudonym key (privacy: in the secrets file); "
            "`netmon usage rebuild --from DATE --to DATE` aggregates the days that have sessions."
        )
    before = _period_totals(store, prev_first, prev_last, sites)
    _daily(report, store, sites, now, before)
    _sites(report, now, before)
    _heat(report, store, sites)
    _eduroam(report, store, sites)
    _aps(report, store, sites)
    _growth(report, now, before)
    for zone, count in store.usage_days_in_other_zones(first, last, timezone):
        report.notes.append(
            f"{count} days of this period were aggregated in time zone {zone}, not {timezone}: "
            "`netmon usage rebuild` does them again (days whose sessions were pruned stay as they are)."
        )
    report.notes += [
        f"Days and hours are local to {timezone}. The previous period is {prev_first} .. {prev_last} "
        f"({n} days{'' if before['rows'] else ', no data'}).",
        "Unique clients over more than one day or site are HyperLogLog estimates (within about 2 %); a device "
        "counts as one client, whatever SSIDs it used.",
        "A session is counted on the day it started; connected hours and data are split between the days it spans. "
        "A visit seen by both the controller and RADIUS accounting counts once.",
        f"Years of Wi-Fi: connected hours / {HOURS_PER_YEAR:,} (hours in an average year).",
        f"Capacity hot spots: access points whose peak concurrent clients reached {threshold} or more on a day.",
    ]
    return report


def _daily(report: Report, store, sites: list[str], now: dict, before: dict) -> None:
    per_day: dict[str, dict] = {}
    for day, sessions, hours, nbytes, edu in store.usage_day_totals(report.first, report.last, sites):
        per_day[day] = {"sessions": sessions, "hours": hours, "bytes": nbytes, "edu": edu}
    sketches: dict[str, list] = defaultdict(list)
    for row in store.usage_site_days(report.first, report.last, sites):
        sketches[row.day].append((row.clients, row.clients_hll))
    table = Table(
        "daily", "Daily trend",
        ["day", "weekday", "unique_clients", "sessions", "connected_hours", "bytes", "eduroam_sessions",
         "eduroam_share"],
        ["day", "text", "int", "int", "hours", "bytes", "int", "pct"],
    )  # fmt: skip
    for k in range(report.days):
        d = report.first + timedelta(days=k)
        row = per_day.get(d.isoformat(), {"sessions": 0, "hours": 0.0, "bytes": 0, "edu": 0})
        clients = _distinct(sketches.get(d.isoformat(), []))
        share = row["edu"] / row["sessions"] if row["sessions"] else None
        table.rows.append([d.isoformat(), WEEKDAYS[d.weekday()], clients, row["sessions"], row["hours"],
                           row["bytes"], row["edu"], share])  # fmt: skip
    report.tables["daily"] = table
    sessions = sum(r[3] for r in table.rows)
    hours = sum(r[4] for r in table.rows)
    nbytes = sum(r[5] for r in table.rows)
    edu = sum(r[6] for r in table.rows)
    busiest = max(table.rows, key=lambda r: (r[2], r[3]))
    b_sessions = sum(s.get("sessions", 0) for s in before["sites"].values())
    b_hours = sum(s.get("hours", 0.0) for s in before["sites"].values())
    with_data = [r for r in table.rows if r[3] or r[2]]
    missing = report.days - len(with_data)
    totals = Table(
        "totals", "Totals", ["measure", "value", "previous_period", "change"], ["text", "row", "row", "change"],
        row_kinds=["int", "int", "hours", "float", "bytes", "int", "pct", "day", "int", "int"],
    )  # fmt: skip
    had = bool(before["rows"])
    b_bytes = sum(s.get("bytes", 0) for s in before["sites"].values())
    totals.rows = [
        [
            "unique clients",
            now["clients"],
            before["clients"] if had else None,
            change(now["clients"], before["clients"]),
        ],
        ["sessions", sessions, b_sessions if had else None, change(sessions, b_sessions)],
        ["connected hours", hours, b_hours if had else None, change(hours, b_hours)],
        ["years of Wi-Fi", hours / HOURS_PER_YEAR, b_hours / HOURS_PER_YEAR if had else None, change(hours, b_hours)],
        ["bytes", nbytes, b_bytes if had else None, change(nbytes, b_bytes)],
        ["average unique clients per day", sum(r[2] for r in with_data) / max(1, len(with_data)), None, None],
        ["eduroam share of sessions", edu / sessions if sessions else None, None, None],
        ["busiest day", busiest[0], None, None],
        ["busiest day unique clients", busiest[2], None, None],
        ["days without data", missing, None, None],
    ]
    report.tables["totals"] = totals
    report.headline = [
        ("Unique clients", f"{now['clients']:,}", _vs(now["clients"], before["clients"])),
        ("Sessions", f"{sessions:,}", _vs(sessions, b_sessions)),
        ("Connected hours", f"{hours:,.0f}", _vs(hours, b_hours)),
        ("Years of Wi-Fi", f"{hours / HOURS_PER_YEAR:,.1f}", "connected hours / 8,766"),
        ("Data", human_bytes(nbytes), "down and up"),
        ("Busiest day", f"{WEEKDAYS[date.fromisoformat(busiest[0]).weekday()]} {busiest[0]}",
         f"{busiest[2]:,} unique clients, {busiest[3]:,} sessions"),
    ]  # fmt: skip
    if missing:
        report.notes.append(f"{missing} of {report.days} days have no data (no sessions recorded or aggregated).")


def _vs(now: float, before: float) -> str:
    c = change(now, before)
    return "no previous data" if c is None else f"{c:+.1%} on the previous period"


def human_bytes(n: float) -> str:
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def _sites(report: Report, now: dict, before: dict) -> None:
    table = Table(
        "sites", "Per site",
        ["site", "unique_clients", "clients_change", "sessions", "sessions_change", "connected_hours",
         "hours_change", "minutes_per_session", "bytes", "peak_concurrent", "peak_day", "peak_hour",
         "eduroam_share"],
        ["text", "int", "change", "int", "change", "hours", "change", "float", "bytes", "int", "day", "int", "pct"],
        note="Δ: change against the previous period of the same length. Peak: most clients connected at once "
        "(local day and hour).",
        labels={"unique_clients": "unique clients", "clients_change": "Δ", "sessions_change": "Δ",
                "connected_hours": "hours", "hours_change": "Δ", "minutes_per_session": "min/session",
                "bytes": "data", "peak_concurrent": "peak", "peak_day": "peak day", "peak_hour": "hour",
                "eduroam_share": "eduroam"},
    )  # fmt: skip
    for site, s in sorted(now["sites"].items(), key=lambda kv: -kv[1].get("sessions", 0)):
        b = before["sites"].get(site, {})
        peak = s.get("peak", (0, None, None))
        table.rows.append([
            site, s.get("clients", 0), change(s.get("clients", 0), b.get("clients", 0)), s["sessions"],
            change(s["sessions"], b.get("sessions", 0)), s["hours"], change(s["hours"], b.get("hours", 0.0)),
            60 * s["hours"] / s["sessions"] if s["sessions"] else None, s["bytes"], peak[0], peak[1], peak[2],
            s["edu"] / s["sessions"] if s["sessions"] else None,
        ])  # fmt: skip
    report.tables["sites"] = table


def _heat(report: Report, store, sites: list[str]) -> None:
    """Average clients connected at once in each hour of each weekday (days without data count as zero).

    Connected time per hour adds up over sites where distinct clients do not: a client who moves from one site
    to another within the hour is one client-hour between them, but a distinct client at each.
    """
    total = np.zeros((7, 24))
    for day, hour, client_hours in store.usage_hour_totals(report.first, report.last, sites):
        total[date.fromisoformat(day).weekday(), hour] += client_hours
    counts = Counter((report.first + timedelta(days=k)).weekday() for k in range(report.days))
    per = np.array([counts.get(w, 0) for w in range(7)], dtype=float)[:, None]
    report.heat = np.divide(total, per, out=np.zeros_like(total), where=per > 0)
    table = Table(
        "heatmap", "Hour of day x day of week", ["weekday", "hour", "average_clients"], ["text", "int", "float"],
        note="Average number of clients connected at once during each local hour (connected client-hours per "
        "hour, so a client moving between sites within the hour counts once), over the period's days of that "
        "weekday.",
    )  # fmt: skip
    table.rows = [[WEEKDAYS[w], h, float(report.heat[w, h])] for w in range(7) for h in range(24)]
    report.tables["heatmap"] = table


def _eduroam(report: Report, store, sites: list[str]) -> None:
    weekly = report.days > 62
    buckets: dict[str, list[int]] = {}
    for k in range(report.days):
        d = report.first + timedelta(days=k)
        key = (d - timedelta(days=d.weekday())).isoformat() if weekly else d.isoformat()
        buckets.setdefault(key, [0, 0])
    for day, sessions, _hours, _bytes, edu in store.usage_day_totals(report.first, report.last, sites):
        d = date.fromisoformat(day)
        key = (d - timedelta(days=d.weekday())).isoformat() if weekly else day
        buckets[key][0] += sessions
        buckets[key][1] += edu
    share = Table(
        "eduroam_share", "eduroam share over time",
        ["week_starting" if weekly else "day", "sessions", "eduroam_sessions", "eduroam_share"],
        ["day", "int", "int", "pct"],
    )  # fmt: skip
    share.rows = [[k, s, e, e / s if s else None] for k, (s, e) in sorted(buckets.items())]
    report.tables["eduroam_share"] = share
    realms: dict[str, list] = defaultdict(lambda: [0, []])
    for realm, sessions, users, blob in store.usage_realm_days(report.first, report.last, sites):
        realms[realm][0] += sessions
        realms[realm][1].append((users, blob))
    total = sum(v[0] for v in realms.values())
    table = Table(
        "realms", "Top home realms (eduroam visitors)", ["realm", "sessions", "unique_users", "share_of_eduroam"],
        ["text", "int", "int", "pct"],
        note="The realm is the visitor's home institution; users are counted by pseudonym, never named.",
    )  # fmt: skip
    ranked = sorted(realms.items(), key=lambda kv: (-kv[1][0], kv[0]))
    for realm, (sessions, sketches) in ranked[:TOP_REALMS]:
        table.rows.append([realm, sessions, _distinct(sketches), sessions / total if total else None])
    rest = ranked[TOP_REALMS:]
    if rest:
        sessions = sum(v[0] for _, v in rest)
        users = _distinct([s for _, v in rest for s in v[1]])
        table.rows.append([f"{len(rest)} other realms", sessions, users, sessions / total if total else None])
    report.tables["realms"] = table


def _aps(report: Report, store, sites: list[str]) -> None:
    aps: dict[str, dict] = {}
    for mac, name, site, sessions, hours, peak, day, hour in store.usage_ap_days(report.first, report.last, sites):
        a = aps.setdefault(mac, {"name": name, "sites": Counter(), "sessions": 0, "hours": 0.0, "peak": (0, None, None),
                                 "hot": [], "hot_hours": Counter()})  # fmt: skip
        a["name"] = name  # the latest name
        a["sites"][site] += 1
        a["sessions"] += sessions
        a["hours"] += hours
        if peak > a["peak"][0]:
            a["peak"] = (peak, day, hour)
        if peak >= report.threshold:
            a["hot"].append(day)
            if hour is not None:
                a["hot_hours"][hour] += 1
    busiest = Table(
        "busiest_aps", "Busiest access points",
        ["access_point", "site", "sessions", "connected_hours", "highest_peak_clients", "peak_day", "peak_hour"],
        ["text", "text", "int", "hours", "int", "day", "int"],
        note=f"The {TOP_APS} access points with the most sessions in the period.",
    )  # fmt: skip
    ranked = sorted(aps.values(), key=lambda a: (-a["sessions"], a["name"]))
    for a in ranked[:TOP_APS]:
        busiest.rows.append([a["name"], a["sites"].most_common(1)[0][0], a["sessions"], a["hours"], *a["peak"]])
    report.tables["busiest_aps"] = busiest
    hot = Table(
        "hotspots", f"Capacity hot spots (peak of {report.threshold} or more clients)",
        ["access_point", "site", "days_at_or_over", "highest_peak_clients", "peak_day", "usual_peak_hour",
         "first_day", "last_day"],
        ["text", "text", "int", "int", "day", "int", "day", "day"],
        note=f"Access points whose peak concurrent clients reached {report.threshold} (configuration "
        "capacity_peak_clients, or --capacity-threshold): candidates for another AP or a radio change.",
    )  # fmt: skip
    for a in sorted(aps.values(), key=lambda a: (-len(a["hot"]), -a["peak"][0], a["name"])):
        if a["hot"]:
            usual = a["hot_hours"].most_common(1)[0][0] if a["hot_hours"] else None
            hot.rows.append([a["name"], a["sites"].most_common(1)[0][0], len(a["hot"]), a["peak"][0], a["peak"][1],
                             usual, a["hot"][0], a["hot"][-1]])  # fmt: skip
    report.tables["hotspots"] = hot


def _growth(report: Report, now: dict, before: dict) -> None:
    table = Table(
        "growth", "Sites with the most growth",
        ["site", "unique_clients_before", "unique_clients_now", "clients_change", "sessions_before", "sessions_now",
         "sessions_change", "hours_change"],
        ["text", "int", "int", "change", "int", "int", "change", "change"],
        note="Against the previous period of the same length; sites without data then are listed last as new.",
    )  # fmt: skip
    rows = []
    for site, s in now["sites"].items():
        b = before["sites"].get(site, {})
        rows.append([
            site, b.get("clients", 0), s.get("clients", 0), change(s.get("clients", 0), b.get("clients", 0)),
            b.get("sessions", 0), s["sessions"], change(s["sessions"], b.get("sessions", 0)),
            change(s["hours"], b.get("hours", 0.0)),
        ])  # fmt: skip
    rows.sort(key=lambda r: (r[3] is None, -(r[3] or 0.0), r[0]))
    table.rows = rows
    report.tables["growth"] = table
