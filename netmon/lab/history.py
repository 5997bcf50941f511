"""A synthetic past for the lab city: months of Wi-Fi sessions written straight into the store.

The live simulated controller (:mod:`netmon.lab.wlc_agent`) only knows "now";
planners' reports need seasons. This writes, for the lab's sites and access
points, the sessions a city of ~6,000 Wi-Fi users a day would have left:

- a population of residents, each with a home site and a habit (how often
  they come), plus eduroam visitors (one in six, from the simulated
  controller's five realms); the first ``wlc_people`` residents are the live
  simulator's own people, with the same pseudonyms, so history and live data
  join up;
- weekday/weekend and hour-of-day profiles per kind of site (a library opens
  late on weekdays, a transit hub has commuter peaks, an arena fills in the
  evening and at weekends);
- seasons (busier indoors in winter), school holidays (summer, winter break,
  March break: more daytime use at libraries, community centres and arenas),
  public holidays, and university terms (eduroam visitors mostly in term);
- slow growth that differs by site, and a few busy "lobby" access points per
  site, so capacity hot spots and growth tables have something to say.

Everything is drawn from a seeded generator: the same arguments give the
same history. Rows go in batches through the store's own writes
(``source = 'synthetic'``), and no simulated MAC or user name is stored,
only their pseudonyms.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from netmon import usage
from netmon.lab.wlc_agent import REALMS, SSIDS, keyed_hash, lab_mac
from netmon.privacy import Pseudonymizer

BATCH = 50_000
USERS_PER_DAY = 6_000
SESSIONS_PER_USER = 1.07  # a few come back later the same day

# Relative draw of a site kind, and its hour-of-day profile (weekday, weekend) as (centre hour, spread, weight) bumps.
KIND_WEIGHT = {
    "city-hall": 0.8,
    "library": 1.7,
    "community-centre": 1.4,
    "arena": 1.0,
    "transit": 1.6,
    "fire-station": 0.15,
    "traffic": 0.1,
}
PROFILES = {
    "library": ([(11, 2.5, 1.0), (15.5, 2.5, 1.3), (19, 1.5, 0.7)], [(11.5, 2, 1.0), (15, 2.5, 1.0)]),
    "community-centre": ([(10, 2, 0.8), (17.5, 2, 1.2), (20, 1.2, 0.6)], [(10.5, 2.5, 1.0), (15, 3, 0.9)]),
    "arena": ([(18.5, 1.5, 1.0), (21, 1, 0.6)], [(10, 2, 0.8), (14, 3, 1.0), (19, 1.5, 0.8)]),
    "transit": ([(8, 1, 1.3), (17.2, 1.2, 1.4), (12.5, 3, 0.5)], [(13, 4, 1.0)]),
    "city-hall": ([(10, 1.5, 1.0), (14, 1.5, 0.9)], [(12, 2, 0.2)]),
    "fire-station": ([(12, 4, 1.0)], [(12, 4, 1.0)]),
    "traffic": ([(12, 5, 1.0)], [(12, 5, 1.0)]),
}
WEEKDAY = (1.05, 1.05, 1.05, 1.03, 0.98, 0.82, 0.66)  # Monday .. Sunday
CITY_SSID, EDUROAM_SSID = SSIDS[1], SSIDS[2]


@dataclass
class History:
    first: date
    last: date
    sessions: int
    people: int


def school_holiday(d: date) -> bool:
    """Summer, winter break and March break (the city's school board calendar, roughly)."""
    if d.month in (7, 8):
        return True
    if (d.month == 12 and d.day >= 22) or (d.month == 1 and d.day <= 3):
        return True
    return d.month == 3 and 9 <= d.day <= 15


def university_term(d: date) -> bool:
    return (date(d.year, 1, 6) <= d <= date(d.year, 4, 24)) or (date(d.year, 9, 2) <= d <= date(d.year, 12, 15))


def public_holiday(d: date) -> bool:
    return (d.month, d.day) in {(1, 1), (7, 1), (12, 25), (12, 26), (11, 11), (9, 7), (5, 18)}


def _hour_pdf(bumps: list[tuple[float, float, float]]) -> np.ndarray:
    hours = np.arange(24 * 4) / 4  # quarter hours
    pdf = sum(w * np.exp(-0.5 * ((hours - c) / s) ** 2) for c, s, w in bumps)
    pdf = pdf + 0.01 * pdf.max()  # a little at every hour, night included
    return pdf / pdf.sum()


def _kind(site: dict) -> str:
    kind = site.get("kind", "")
    return kind if kind in PROFILES else "community-centre"


def synthesise(
    store,
    lab,
    days: int,
    tz: ZoneInfo,
    pseudonyms: Pseudonymizer | None,
    seed: int = 1,
    last: date | None = None,
    users_per_day: int = USERS_PER_DAY,
    now: float | None = None,
) -> History:
    """Write ``days`` days of sessions ending with ``last`` (default: yesterday, local)."""
    now = time.time() if now is None else now
    last = last or usage.local_day(now, tz) - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    pseudonyms = pseudonyms or Pseudonymizer(os.urandom(32))  # no key: pseudonyms that join nothing
    controller = min((d.id for d in store.devices() if d.role == "wlc"), default=None)
    if controller is None:
        raise ValueError("no Wi-Fi controller (role wlc) in the store: import the lab inventory first")
    controller_id = controller
    site_ids = store.site_ids()
    sites = [s for s in lab.sites if s["name"] in site_ids]
    if not sites:
        raise ValueError("none of the lab's sites is in the store: import the lab inventory first")
    model = lab.wlc_model()
    aps_by_site: dict[str, list[str]] = {s["name"]: [] for s in sites}
    start_of_history = usage.day_window(first, tz)[0]
    known = []
    for mac, name, location in model.aps():
        site = next((s for s in aps_by_site if name.startswith(f"ap-{s}-")), None)
        if site is None:
            continue
        text = ":".join(f"{b:02x}" for b in mac)
        aps_by_site[site].append(text)
        known.append((text, name, location, site_ids[site]))
    store.add_history_access_points(controller_id, known, start_of_history, now)

    rng = np.random.default_rng(seed)
    n_sites = len(sites)
    people = max(8 * users_per_day, model.people)
    # Habits: most residents come now and then, a few every day (lognormal), eduroam visitors as in the simulator.
    habit = rng.lognormal(0.0, 1.1, people)
    eduroam = np.array([keyed_hash(model.seed, "edu", p) % 6 == 0 for p in range(people)])
    realm_of = [REALMS[keyed_hash(model.seed, "realm", p) % len(REALMS)] for p in range(people)]
    kind_weight = np.array([KIND_WEIGHT.get(_kind(s), 1.0) for s in sites])
    home = rng.choice(n_sites, size=people, p=kind_weight / kind_weight.sum())
    # Growth per site over the history: from slight decline to a third more.
    growth = rng.uniform(-0.05, 0.35, n_sites)
    clients = [pseudonyms.mac(bytes(lab_mac(0xC0, p))) for p in range(people)]
    users = [pseudonyms.user(f"person{p:05d}@{realm_of[p]}") if eduroam[p] else None for p in range(people)]
    # Busy lobby APs: a Zipf-like share per AP, shuffled so the busy one is not always the first.
    ap_weights = {}
    for s in sites:
        if not aps_by_site[s["name"]]:
            aps_by_site[s["name"]] = [""]  # a site without APs on the controller: sessions with no AP
        w = 1.0 / np.arange(1, len(aps_by_site[s["name"]]) + 1) ** 0.75
        rng.shuffle(w)
        ap_weights[s["name"]] = w / w.sum()
    pdfs = {k: (_hour_pdf(wd), _hour_pdf(we)) for k, (wd, we) in PROFILES.items()}
    median_minutes = {"library": 75, "transit": 12, "arena": 90, "community-centre": 60, "city-hall": 30}
    base = users_per_day / habit.sum()
    total = 0
    batch: list[tuple] = []

    def flush() -> None:
        nonlocal batch
        if batch:
            store.add_history_sessions(batch)
            batch = []

    for offset in range((last - first).days + 1):
        d = first + timedelta(days=offset)
        lo, _hi = usage.day_window(d, tz)
        progress = offset / max(1, days - 1)
        doy = d.timetuple().tm_yday
        season = 1 + 0.12 * math.cos(2 * math.pi * (doy - 20) / 365.25)  # busiest in January, quietest in July
        weekend = d.weekday() >= 5 or public_holiday(d)
        day_factor = WEEKDAY[d.weekday()] * season * (0.55 if public_holiday(d) else 1.0)
        holiday = school_holiday(d)
        site_factor = np.array([
            (1 + growth[k] * progress) * (1.25 if holiday and _kind(s) in ("library", "community-centre", "arena")
                                          else 0.8 if holiday and _kind(s) == "transit" else 1.0)
            * (0.25 if weekend and _kind(s) == "city-hall" else 1.0)
            for k, s in enumerate(sites)
        ])  # fmt: skip
        p = base * habit * day_factor * site_factor[home]
        p = np.where(eduroam, p * (1.0 if university_term(d) else 0.35), p)
        here = np.flatnonzero(rng.random(people) < np.minimum(p, 0.95))
        if not here.size:
            continue
        visits = np.concatenate([here, here[rng.random(here.size) < SESSIONS_PER_USER - 1]])
        roam = rng.random(visits.size) < 0.12  # now and then somewhere else than home
        site_idx = np.where(roam, rng.choice(n_sites, size=visits.size, p=kind_weight / kind_weight.sum()),
                            home[visits])  # fmt: skip
        start = np.empty(visits.size)
        minutes = np.empty(visits.size)
        ap_idx = np.empty(visits.size, dtype=np.int64)
        for k, s in enumerate(sites):
            at = np.flatnonzero(site_idx == k)
            if not at.size:
                continue
            kind = _kind(s)
            quarter = rng.choice(96, size=at.size, p=pdfs[kind][1 if weekend else 0])
            start[at] = lo + quarter * 900 + rng.uniform(0, 900, at.size)
            minutes[at] = rng.lognormal(math.log(median_minutes.get(kind, 45)), 0.8, at.size)
            ap_idx[at] = rng.choice(len(ap_weights[s["name"]]), size=at.size, p=ap_weights[s["name"]])
        minutes = np.clip(minutes, 1.0, 600.0)
        end = np.minimum(start + minutes * 60, now - 60)
        keep = end > start
        rate = rng.lognormal(math.log(40_000), 1.0, visits.size)  # bytes/s, a few streaming much more
        volume = (end - start) * rate
        for i in np.flatnonzero(keep).tolist():
            person = int(visits[i])
            site = sites[int(site_idx[i])]["name"]
            edu = bool(eduroam[person])
            batch.append((
                controller_id, clients[person], EDUROAM_SSID if edu else CITY_SSID,
                aps_by_site[site][int(ap_idx[i])], site_ids[site], float(start[i]), float(end[i]), float(end[i]),
                int(volume[i] * 0.85), int(volume[i] * 0.15), int(edu), realm_of[person] if edu else None,
                users[person],
            ))  # fmt: skip
        total += int(keep.sum())
        if len(batch) >= BATCH:
            flush()
    flush()
    return History(first, last, total, people)
