"""Interval arithmetic, and controller and RADIUS sessions joined into visits (see :mod:`netmon.usage`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

UNASSIGNED = "(no site)"
UNKNOWN_REALM = "(unknown)"


# -- interval arithmetic --------------------------------------------------------


def union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint closed intervals covering the same time (touching ones joined)."""
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def measure(intervals: Iterable[tuple[float, float]]) -> float:
    return sum(e - s for s, e in intervals)


def peak(intervals: Iterable[tuple[float, float]]) -> tuple[int, float | None]:
    """Most closed intervals covering one instant, and the first instant it happened."""
    events = []
    for s, e in intervals:
        events.append((s, 0))
        events.append((e, 1))
    events.sort()  # at the same instant, starts (0) before ends (1): closed intervals
    best, at, now = 0, None, 0
    for t, kind in events:
        if kind == 0:
            now += 1
            if now > best:
                best, at = now, t
        else:
            now -= 1
    return best, at


def clip(intervals: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts inside [lo, hi); an interval that only ends at ``lo`` belongs to the day before."""
    out = []
    for s, e in intervals:
        if s >= hi or e < lo or (e == lo and s < lo):
            continue
        out.append((max(s, lo), min(e, hi)))
    return out


# -- visits ---------------------------------------------------------------------

# A source row: (source "w"|"r", client, ssid, ap_mac, site_id, start, end, bytes, eduroam, realm, user)
Row = tuple


@dataclass(slots=True)
class Visit:
    client: str
    site: str
    ssid: str
    ap_mac: str
    intervals: list[tuple[float, float]]
    start: float
    end: float
    bytes: int
    eduroam: bool
    realm: str | None
    user: str | None
    sources: str = "w"


def _overlap(a: Row, b: Row) -> bool:
    if a[4] is not None and b[4] is not None and a[4] != b[4]:
        return False
    return a[5] <= b[6] and b[5] <= a[6]


def _clientless(r: Row) -> bool:
    """A RADIUS session without Calling-Station-Id: its key fell back to the user pseudonym (another namespace)."""
    return r[0] == "r" and r[10] is not None and r[1] == r[10]


def _joins(w: Row, r: Row) -> bool:
    """A controller session ``w`` and a RADIUS session ``r`` are one visit: the same device (or, RADIUS knowing
    no device, the same user the controller saw), overlapping in time, at the same site when both know it."""
    if w[1] != r[1] and not (_clientless(r) and w[10] == r[10]):
        return False
    return _overlap(w, r)


def _one_device(rows: list[Row], partners: list[int], r: Row) -> list[int]:
    """A clientless RADIUS session is one device: of the user's devices it overlaps, the one it overlaps longest
    (ties: the smallest key), so a user's laptop and phone do not become one visit through it."""
    time: dict[str, float] = defaultdict(float)
    for i in partners:
        time[rows[i][1]] += min(rows[i][6], r[6]) - max(rows[i][5], r[5])
    device = min(time, key=lambda k: (-time[k], k))
    return [i for i in partners if rows[i][1] == device]


def families(rows: Iterable[Row]) -> dict[str, str]:
    """Client key -> the key of the rows it may join with: clients whose controller sessions carry the user of a
    clientless RADIUS session are one family with it (keys absent from the result are families of their own)."""
    rows = list(rows)
    anon = {r[10] for r in rows if _clientless(r)}
    if not anon:
        return {}
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    for r in rows:
        if r[0] == "w" and r[10] in anon:
            a, b = root(r[1]), root(r[10])
            if a != b:
                parent[a] = b
    return {k: root(k) for k in list(parent)} | {u: root(u) for u in anon}


def _order(r: Row) -> tuple:
    """Rows of a visit in time order, fully ordered: what the visit takes from "the first" row must not depend
    on the order the store returned them in (another rebuild range reads them in another order)."""
    return (r[5], r[6], r[0], r[1], r[2], r[3], -1 if r[4] is None else r[4], r[7], r[8], r[9] or "", r[10] or "")


def _visit(rows: list[Row], site_names: dict[int, str]) -> Visit:
    if len(rows) > 1:
        rows = sorted(rows, key=_order)
    wifi = [r for r in rows if r[0] == "w"]
    radius = [r for r in rows if r[0] == "r"]
    lead = max(wifi or radius, key=lambda r: r[6] - r[5])  # the controller's view of site, SSID and AP first
    site_id = next((r[4] for r in wifi if r[4] is not None), None)
    if site_id is None:
        site_id = next((r[4] for r in radius if r[4] is not None), None)
    intervals = union((r[5], r[6]) for r in rows)
    return Visit(
        client=lead[1],
        site=site_names.get(site_id, UNASSIGNED) if site_id is not None else UNASSIGNED,
        ssid=lead[2] or next((r[2] for r in rows if r[2]), ""),
        ap_mac=lead[3] or next((r[3] for r in rows if r[3]), ""),
        intervals=intervals,
        start=intervals[0][0],
        end=intervals[-1][1],
        bytes=max(sum(r[7] for r in wifi), sum(r[7] for r in radius)),
        eduroam=any(r[8] for r in rows),
        realm=next((r[9] for r in rows if r[9]), None),
        user=next((r[10] for r in radius + wifi if r[10]), None),
        sources="".join(sorted({r[0] for r in rows})),
    )


def _find(parent: list[int], i: int) -> int:
    """Union-find root, halving the path."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def merge_visits(rows: Iterable[Row], site_names: dict[int, str]) -> list[Visit]:
    """Join controller and RADIUS sessions into visits (:func:`_joins`, transitively)."""
    return [_visit(g, site_names) for g in components(rows)]


def components(rows: Iterable[Row]) -> list[list[Row]]:
    """The rows grouped into visits: connected components of the :func:`_joins` relation."""
    rows = list(rows)
    fam = families(rows)
    by_family: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_family[fam.get(r[1], r[1])].append(r)
    out: list[list[Row]] = []
    for family_rows in by_family.values():
        if len({r[0] for r in family_rows}) < 2:
            out.extend([r] for r in family_rows)
            continue
        parent = list(range(len(family_rows)))
        for j, b in enumerate(family_rows):
            if b[0] != "r":
                continue
            partners = [i for i, a in enumerate(family_rows) if a[0] == "w" and _joins(a, b)]
            if len(partners) > 1 and _clientless(b):
                partners = _one_device(family_rows, partners, b)
            for i in partners:
                parent[_find(parent, i)] = _find(parent, j)
        groups: dict[int, list[Row]] = defaultdict(list)
        for i, r in enumerate(family_rows):
            groups[_find(parent, i)].append(r)
        out.extend(groups.values())
    return out


def reach(rows: list[Row], lo: float, hi: float) -> tuple[float, float]:
    """The earliest start and latest end of the visits (as joined from ``rows``) touching [lo, hi]."""
    a, b = lo, hi
    for group in components(rows):
        if any(r[5] <= hi and r[6] >= lo for r in group):
            a = min(a, min(r[5] for r in group))
            b = max(b, max(r[6] for r in group))
    return a, b
