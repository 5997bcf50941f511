"""``aggregate_day``: the readable definition of every daily aggregate (see :mod:`netmon.usage`).

It costs ~100 us per visit; :mod:`netmon.usage.arrays` computes the same rows
with numpy at city scale, and a property test holds the two equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from netmon.usage import hll
from netmon.usage.days import Slots
from netmon.usage.visits import UNASSIGNED, UNKNOWN_REALM, Visit, clip, measure, peak, union

# The largest INTEGER SQLite keeps: an aggregate that would pass it (a NAS claiming exabytes twice in a day)
# stops there instead of failing the day's rows.
MAX_INTEGER = 2**63 - 1


def saturated(value: float) -> int:
    """``value`` rounded, at most :data:`MAX_INTEGER` (and at least 0)."""
    if not value > 0:  # zero, negative, NaN
        return 0
    return MAX_INTEGER if value >= MAX_INTEGER else min(MAX_INTEGER, round(value))


@dataclass
class DayRows:
    daily: list[tuple] = field(default_factory=list)
    site: list[tuple] = field(default_factory=list)  # all SSIDs: a site's own distinct clients and peak
    realm: list[tuple] = field(default_factory=list)
    hourly: list[tuple] = field(default_factory=list)
    ap: list[tuple] = field(default_factory=list)


def _per_client(intervals_by_client: dict[str, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Every client's time as disjoint intervals: one client's overlapping visits count once."""
    out = []
    for ivs in intervals_by_client.values():
        out.extend(union(ivs) if len(ivs) > 1 else ivs)
    return out


def aggregate_day(
    day: str,
    lo: float,
    hi: float,
    slots: Slots,
    visits: Iterable[Visit],
    ap_info: dict[str, tuple[str, str | None]] | None = None,
    sample_peaks: dict[str, tuple[int, float]] | None = None,
    hll_cache: dict | None = None,
) -> DayRows:
    """The day's rows for every table, from the visits that touch [lo, hi)."""
    ap_info = ap_info or {}
    sample_peaks = sample_peaks or {}
    groups: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    sessions: Counter = Counter()
    nbytes: dict[tuple[str, str], float] = defaultdict(float)
    edu_sessions: Counter = Counter()
    edu_users: dict[tuple[str, str], set] = defaultdict(set)
    realm_sessions: Counter = Counter()
    realm_users: dict[tuple, set] = defaultdict(set)
    site_clients: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    hour_sessions: Counter = Counter()
    ap_clients: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    ap_sessions: Counter = Counter()
    ap_site: dict[str, Counter] = defaultdict(Counter)
    for v in visits:
        part = clip(v.intervals, lo, hi)
        if not part:
            continue
        g = (v.site, v.ssid)
        starts_here = lo <= v.start < hi
        total = measure(v.intervals)
        share = measure(part) / total if total > 0 else float(starts_here)
        groups[g][v.client].extend(part)
        site_clients[v.site][v.client].extend(part)
        nbytes[g] += v.bytes * share
        if v.ap_mac:
            ap_clients[v.ap_mac][v.client].extend(part)
            ap_site[v.ap_mac][v.site] += 1
        if starts_here:
            sessions[g] += 1
            hour_sessions[(v.site, slots.hours[slots.index(v.start)])] += 1
            if v.ap_mac:
                ap_sessions[v.ap_mac] += 1
        if v.eduroam:
            realm = v.realm or UNKNOWN_REALM
            who = v.user or v.client
            edu_users[g].add(who)
            realm_users[(*g, realm)].add(who)
            if starts_here:
                edu_sessions[g] += 1
                realm_sessions[(*g, realm)] += 1
    out = DayRows()
    for g, by_client in sorted(groups.items()):
        ivs = _per_client(by_client)
        top, at = peak(ivs)
        out.daily.append((
            day, g[0], g[1], len(by_client), sessions[g], measure(ivs) / 3600, saturated(nbytes[g]), top,
            slots.hours[slots.index(at)] if at is not None else None, edu_sessions[g], len(edu_users[g]),
            hll.pack(hll.sketch(by_client, hll_cache)),
        ))  # fmt: skip
    for key, users in sorted(realm_users.items()):
        out.realm.append((day, *key, realm_sessions[key], len(users), hll.pack(hll.sketch(users, hll_cache))))
    for site, by_client in sorted(site_clients.items()):
        top, at = peak(_per_client(by_client))
        out.site.append((
            day, site, len(by_client), top, slots.hours[slots.index(at)] if at is not None else None,
            hll.pack(hll.sketch(by_client, hll_cache)),
        ))  # fmt: skip
        present: dict[int, set] = defaultdict(set)
        seconds: dict[int, float] = defaultdict(float)
        for client, ivs in by_client.items():
            for s, e in union(ivs):
                for i in slots.span(s, e):
                    hour = slots.hours[i]
                    present[hour].add(client)
                    seconds[hour] += max(0.0, min(e, slots.starts[i] + 3600) - max(s, slots.starts[i]))
        for hour in sorted(set(present) | {h for (s, h) in hour_sessions if s == site}):
            out.hourly.append((day, site, hour, len(present[hour]), seconds[hour] / 3600, hour_sessions[(site, hour)]))
    for mac in sorted(set(ap_clients) | set(sample_peaks)):
        by_client = ap_clients.get(mac, {})
        ivs = _per_client(by_client)
        top, at = peak(ivs)
        if mac in sample_peaks and sample_peaks[mac][0] > top:
            top, at = sample_peaks[mac]
        name, known_site = ap_info.get(mac, ("", None))
        # the site most of its visits were at (an AP moved that day: the first such site by name)
        site = max(sorted(ap_site[mac].items()), key=lambda kv: kv[1])[0] if ap_site[mac] else known_site or UNASSIGNED
        out.ap.append((
            day, mac, name or "(unnamed AP)", site, ap_sessions[mac], len(by_client), measure(ivs) / 3600, top,
            slots.hours[slots.index(at)] if at is not None else None,
        ))  # fmt: skip
    return out
