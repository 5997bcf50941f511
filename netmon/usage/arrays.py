"""The day's usage aggregates computed on numpy arrays: :func:`netmon.usage.definition.aggregate_day`, at city scale.

:func:`netmon.usage.definition.aggregate_day` is the definition, written for reading
(dicts of per-client interval lists); it costs ~100 us per visit, so a year
of 2.2 million sessions took minutes. This module computes the same rows
with array operations over a chunk of days (a property test holds the two
equal on random sessions, RADIUS merges included):

- each client's intervals in a group are joined by sorting on (group+client,
  start) and a running maximum of the ends, groups kept apart by an offset
  larger than a day;
- peak concurrency is a cumulative sum over the sorted start (+1) / end (-1)
  events, starts first at equal times (closed intervals), per group;
- distinct counts are ``np.unique`` over combined integer keys, sums are
  ``np.bincount`` with weights, HyperLogLog registers ``np.maximum.at``.

Strings (pseudonyms, sites, SSIDs, AP MACs, realms) become integer codes once
per rebuild (:class:`Codes`); only aggregates are turned back into names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from netmon.usage import hll
from netmon.usage.days import Slots
from netmon.usage.definition import DayRows, saturated
from netmon.usage.visits import UNASSIGNED, UNKNOWN_REALM, Row, families, merge_visits

# Keeps one (group, client)'s times apart from the next one's when sorted together: more than a day of seconds.
_GAP = 200_000.0


class Codes:
    """Strings to dense integer codes (and back), shared by every chunk of one rebuild."""

    def __init__(self, with_hll: bool = False):
        self.index: dict[str, int] = {}
        self.values: list[str] = []
        self.with_hll = with_hll
        self.hll_index = np.zeros(0, dtype=np.intp)
        self.hll_rank = np.zeros(0, dtype=np.uint8)

    def of(self, items: list) -> np.ndarray:
        index = self.index
        new = set(items).difference(index)
        if new:
            for x in sorted(new):
                index[x] = len(self.values)
                self.values.append(x)
            if self.with_hll:
                new = [hll.index_rank(v) for v in self.values[len(self.hll_index) :]]
                self.hll_index = np.concatenate([self.hll_index, np.array([p[0] for p in new], dtype=np.intp)])
                self.hll_rank = np.concatenate([self.hll_rank, np.array([p[1] for p in new], dtype=np.uint8)])
        return np.fromiter(map(index.__getitem__, items), dtype=np.int64, count=len(items))

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Tables:
    """The code tables of one rebuild."""

    people: Codes  # client and user pseudonyms
    sites: Codes
    ssids: Codes
    aps: Codes
    realms: Codes

    @classmethod
    def new(cls) -> Tables:
        return cls(Codes(with_hll=True), Codes(), Codes(), Codes(), Codes())


@dataclass
class VisitArrays:
    """One row per interval of a visit (a visit joined from several sessions may have gaps)."""

    vid: np.ndarray
    client: np.ndarray
    site: np.ndarray
    ssid: np.ndarray
    ap: np.ndarray
    s: np.ndarray
    e: np.ndarray
    vstart: np.ndarray
    vlen: np.ndarray
    vbytes: np.ndarray
    edu: np.ndarray
    realm: np.ndarray
    who: np.ndarray
    first: np.ndarray


def visit_arrays(rows: list[Row], site_names: dict[int, str], t: Tables) -> VisitArrays:
    """Visits of a chunk's source rows: clients seen by one source only go straight in, others through the merge."""
    fam = families(rows)
    radius = {fam.get(r[1], r[1]) for r in rows if r[0] == "r"}
    both = radius & {fam.get(r[1], r[1]) for r in rows if r[0] == "w"} if radius else set()
    simple = [r for r in rows if fam.get(r[1], r[1]) not in both] if both else rows
    cols: dict[str, list] = defaultdict(list)
    if simple:
        n = len(simple)
        cols["vid"] = list(range(n))
        cols["client"] = [r[1] for r in simple]
        cols["site"] = [UNASSIGNED if r[4] is None else site_names.get(r[4], UNASSIGNED) for r in simple]
        cols["ssid"] = [r[2] for r in simple]
        cols["ap"] = [r[3] for r in simple]
        cols["s"] = [r[5] for r in simple]
        cols["e"] = [r[6] for r in simple]
        cols["vstart"] = list(cols["s"])
        cols["vlen"] = [r[6] - r[5] for r in simple]
        cols["vbytes"] = [r[7] for r in simple]
        cols["edu"] = [bool(r[8]) for r in simple]
        cols["realm"] = [(r[9] or UNKNOWN_REALM) if r[8] else "" for r in simple]
        cols["who"] = [(r[10] or r[1]) for r in simple]
        cols["first"] = [True] * n
    vid = len(simple)
    for v in merge_visits([r for r in rows if fam.get(r[1], r[1]) in both], site_names) if both else []:
        total = sum(e - s for s, e in v.intervals)
        for k, (s, e) in enumerate(v.intervals):
            for name, value in (
                ("vid", vid), ("client", v.client), ("site", v.site), ("ssid", v.ssid), ("ap", v.ap_mac), ("s", s),
                ("e", e), ("vstart", v.start), ("vlen", total), ("vbytes", v.bytes), ("edu", v.eduroam),
                ("realm", (v.realm or UNKNOWN_REALM) if v.eduroam else ""), ("who", v.user or v.client),
                ("first", k == 0),
            ):  # fmt: skip
                cols[name].append(value)
        vid += 1
    f8 = np.float64
    return VisitArrays(
        vid=np.asarray(cols["vid"], dtype=np.int64),
        client=t.people.of(cols["client"]),
        site=t.sites.of(cols["site"]),
        ssid=t.ssids.of(cols["ssid"]),
        ap=t.aps.of(cols["ap"]),
        s=np.asarray(cols["s"], dtype=f8),
        e=np.asarray(cols["e"], dtype=f8),
        vstart=np.asarray(cols["vstart"], dtype=f8),
        vlen=np.asarray(cols["vlen"], dtype=f8),
        vbytes=np.asarray(cols["vbytes"], dtype=f8),
        edu=np.asarray(cols["edu"], dtype=bool),
        realm=t.realms.of(cols["realm"]),
        who=t.people.of(cols["who"]),
        first=np.asarray(cols["first"], dtype=bool),
    )


def _union(seg: np.ndarray, cs: np.ndarray, ce: np.ndarray, lo: float):
    """Per segment (group and client), the union of closed intervals: (segment, start, end) arrays."""
    if not seg.size:
        return seg, cs, ce
    useg, k = np.unique(seg, return_inverse=True)
    order = np.lexsort((cs, k))
    k, a, b = k[order], cs[order], ce[order]
    offset = k * _GAP - lo
    run = np.maximum.accumulate(b + offset)
    new = np.empty(k.size, dtype=bool)
    new[0] = True
    new[1:] = (a[1:] + offset[1:]) > run[:-1]
    starts = np.flatnonzero(new)
    return useg[k[starts]], a[starts], np.maximum.reduceat(b, starts)


def _peaks(groups: np.ndarray, us: np.ndarray, ue: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the most intervals covering one instant and the first such instant (NaN: none)."""
    best = np.zeros(n_groups, dtype=np.int64)
    when = np.full(n_groups, np.nan)
    if not us.size:
        return best, when
    n = us.size
    t = np.concatenate([us, ue])
    kind = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)])
    g = np.concatenate([groups, groups])
    order = np.lexsort((kind, t, g))
    cum = np.cumsum(np.where(kind[order] == 0, 1, -1))  # back to 0 at each group's end: starts and ends balance
    gs, ts = g[order], t[order]
    bounds = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    top = np.maximum.reduceat(cum, bounds)
    at_top = np.flatnonzero(cum == np.repeat(top, np.diff(np.r_[bounds, 2 * n])))
    groups_at_top, first = np.unique(gs[at_top], return_index=True)  # the first instant each group reached its top
    best[groups_at_top] = cum[at_top[first]]
    when[groups_at_top] = ts[at_top[first]]
    return best, when


def _distinct_count(groups: np.ndarray, members: np.ndarray, n_groups: int, n_members: int) -> np.ndarray:
    pairs = np.unique(groups * n_members + members)
    return np.bincount(pairs // n_members, minlength=n_groups)


def _sketches(groups: np.ndarray, members: np.ndarray, n_groups: int, people: Codes) -> list[bytes]:
    regs = np.zeros((n_groups, hll.M), dtype=np.uint8)
    if members.size:
        np.maximum.at(regs, (groups, people.hll_index[members]), people.hll_rank[members])
    return [hll.pack(r) for r in regs]


def aggregate(
    day: str,
    lo: float,
    hi: float,
    slots: Slots,
    va: VisitArrays,
    t: Tables,
    ap_info: dict[str, tuple[str, str | None]] | None = None,
    sample_peaks: dict[str, tuple[int, float]] | None = None,
) -> DayRows:
    """The same rows as :func:`netmon.usage.definition.aggregate_day` for the visits in ``va`` touching [lo, hi)."""
    ap_info = ap_info or {}
    sample_peaks = sample_peaks or {}
    out = DayRows()
    starts_arr = np.asarray(slots.starts)
    hours_arr = np.asarray(slots.hours)

    def hour_of(ts: float) -> int | None:
        if ts != ts:  # NaN: no peak
            return None
        return int(hours_arr[max(0, np.searchsorted(starts_arr, ts, side="right") - 1)])

    m = np.flatnonzero((va.s < hi) & ((va.e > lo) | (va.s >= lo)))
    cs, ce = np.maximum(va.s[m], lo), np.minimum(va.e[m], hi)
    client, site, ssid, ap = va.client[m], va.site[m], va.ssid[m], va.ap[m]
    edu, realm, who, vid = va.edu[m], va.realm[m], va.who[m], va.vid[m]
    vstart, vlen = va.vstart[m], va.vlen[m]
    here = va.first[m] & (vstart >= lo) & (vstart < hi)
    share = np.where(vlen > 0, (ce - cs) / np.where(vlen > 0, vlen, 1.0), here.astype(np.float64))
    nbytes = va.vbytes[m] * share
    n_people = max(1, len(t.people))

    # -- per site and SSID
    gkey = site * max(1, len(t.ssids)) + ssid
    gu, g = np.unique(gkey, return_inverse=True)
    n_g = gu.size
    useg, us, ue = _union(g * n_people + client, cs, ce, lo)
    ug = useg // n_people
    hours = np.bincount(ug, weights=ue - us, minlength=n_g) / 3600
    top, when = _peaks(ug, us, ue, n_g)
    clients = _distinct_count(g, client, n_g, n_people)
    sessions = np.bincount(g[here], minlength=n_g)
    edu_sessions = np.bincount(g[here & edu], minlength=n_g)
    edu_users = _distinct_count(g[edu], who[edu], n_g, n_people)
    total_bytes = np.bincount(g, weights=nbytes, minlength=n_g)
    sketches = _sketches(g, client, n_g, t.people)
    n_ssid = max(1, len(t.ssids))
    names = []
    for i, key in enumerate(gu.tolist()):
        names.append((t.sites.values[key // n_ssid], t.ssids.values[key % n_ssid], i))
    for site_name, ssid_name, i in sorted(names):
        out.daily.append((
            day, site_name, ssid_name, int(clients[i]), int(sessions[i]), float(hours[i]), saturated(total_bytes[i]),
            int(top[i]), hour_of(when[i]), int(edu_sessions[i]), int(edu_users[i]), sketches[i],
        ))  # fmt: skip

    # -- per site, SSID and home realm (eduroam)
    if edu.any():
        n_realm = max(1, len(t.realms))
        ru, r = np.unique(g[edu] * n_realm + realm[edu], return_inverse=True)
        r_sessions = np.bincount(r[here[edu]], minlength=ru.size)
        r_users = _distinct_count(r, who[edu], ru.size, n_people)
        r_sketch = _sketches(r, who[edu], ru.size, t.people)
        rows = []
        for i, key in enumerate(ru.tolist()):
            site_name, ssid_name, _ = names[key // n_realm]
            rows.append((day, site_name, ssid_name, t.realms.values[key % n_realm], int(r_sessions[i]),
                         int(r_users[i]), r_sketch[i]))  # fmt: skip
        out.realm = sorted(rows, key=lambda x: x[:4])

    # -- per site (all SSIDs) and per site and hour
    su, sg = np.unique(site, return_inverse=True)
    useg, us, ue = _union(sg * n_people + client, cs, ce, lo)
    usg, uclient = useg // n_people, useg % n_people
    s_top, s_when = _peaks(usg, us, ue, su.size)
    s_clients = _distinct_count(sg, client, su.size, n_people)
    s_sketch = _sketches(sg, client, su.size, t.people)
    i0 = np.maximum(0, np.searchsorted(starts_arr, us, side="right") - 1)
    i1 = np.where(ue > us, np.searchsorted(starts_arr, ue, side="left") - 1, i0)
    i1 = np.maximum(i1, i0)
    count = i1 - i0 + 1
    rep = np.repeat(np.arange(us.size), count)
    slot = i0[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(count) - count, count))
    overlap = np.maximum(0.0, np.minimum(ue[rep], starts_arr[slot] + 3600) - np.maximum(us[rep], starts_arr[slot]))
    hour = hours_arr[slot]
    sh = usg[rep] * 24 + hour
    h_seconds = np.bincount(sh, weights=overlap, minlength=su.size * 24)
    h_clients = _distinct_count(sh, uclient[rep], su.size * 24, n_people)
    start_slot = np.maximum(0, np.searchsorted(starts_arr, vstart[here], side="right") - 1)
    h_sessions = np.bincount(sg[here] * 24 + hours_arr[start_slot], minlength=su.size * 24)
    order = sorted(range(su.size), key=lambda i: t.sites.values[su[i]])
    for i in order:
        name = t.sites.values[su[i]]
        out.site.append((day, name, int(s_clients[i]), int(s_top[i]), hour_of(s_when[i]), s_sketch[i]))
        for h in range(24):
            k = i * 24 + h
            if h_clients[k] or h_sessions[k]:
                out.hourly.append((day, name, h, int(h_clients[k]), float(h_seconds[k]) / 3600, int(h_sessions[k])))

    # -- per access point
    no_ap = t.aps.index.get("")
    with_ap = ap != no_ap if no_ap is not None else np.ones(ap.size, dtype=bool)
    au, ag = np.unique(ap[with_ap], return_inverse=True)
    a_cs, a_ce, a_client, a_site, a_vid = cs[with_ap], ce[with_ap], client[with_ap], site[with_ap], vid[with_ap]
    useg, us, ue = _union(ag * n_people + a_client, a_cs, a_ce, lo)
    uag = useg // n_people
    a_top, a_when = _peaks(uag, us, ue, au.size)
    a_hours = np.bincount(uag, weights=ue - us, minlength=au.size) / 3600
    a_clients = _distinct_count(ag, a_client, au.size, n_people)
    a_sessions = np.bincount(ag[here[with_ap]], minlength=au.size)
    _, one = np.unique(a_vid, return_index=True)  # a visit counts once for its AP's site
    site_votes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a, s in zip(ag[one].tolist(), a_site[one].tolist(), strict=True):
        site_votes[a][t.sites.values[s]] += 1
    by_mac = {t.aps.values[code]: i for i, code in enumerate(au.tolist())}
    for mac in sorted(set(by_mac) | set(sample_peaks)):
        i = by_mac.get(mac)
        top_n, at = (int(a_top[i]), float(a_when[i])) if i is not None else (0, float("nan"))
        if mac in sample_peaks and sample_peaks[mac][0] > top_n:
            top_n, at = sample_peaks[mac]
        name, known_site = ap_info.get(mac, ("", None))
        votes = site_votes.get(i, {}) if i is not None else {}
        ap_site = max(sorted(votes.items()), key=lambda kv: kv[1])[0] if votes else known_site or UNASSIGNED
        out.ap.append((
            day, mac, name or "(unnamed AP)", ap_site, int(a_sessions[i]) if i is not None else 0,
            int(a_clients[i]) if i is not None else 0, float(a_hours[i]) if i is not None else 0.0, top_n,
            hour_of(at),
        ))  # fmt: skip
    return out
