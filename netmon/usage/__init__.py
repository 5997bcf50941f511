"""Wi-Fi usage maths: daily aggregates, per local day, site and SSID, from controller and RADIUS sessions.

Planners read days, sites and hours, never people, and raw sessions are
pruned after ``retention_days`` (:mod:`netmon.store.usage`): what the reports
need must survive in aggregates. A day here is a calendar day in the city's
time zone (configuration ``timezone``, else the system's), so a DST day has
23 or 25 hours and "8 o'clock" is the city's 8 o'clock.

Visits. A client (by pseudonym) seen by the controller (``wifi_sessions``)
and by RADIUS accounting (``radius_sessions``, when that table exists) at
the same time, at the same site when both know it, is one visit: its time
is the union of both sessions' intervals, its bytes the larger of the two
sources' totals. Sessions from one source alone are visits of their own.
A RADIUS session without a client (no Calling-Station-Id) stands for the
device of its user: it joins the controller sessions of that user (the one
device it overlaps longest). Joins are transitive and may reach outside the
day; :func:`netmon.store.usage.fetch` reads until they stop growing, so a day's rows do not
depend on the range rebuilt.

Per day and group a visit counts:
- as a session on the day it starts (summing days gives the period's sessions);
- as a unique client on every day it is connected in;
- for its connected time inside the day (a client's overlapping visits once);
- for its bytes pro rata to its connected time inside the day.
Peak concurrency treats intervals as closed: two clients seen at the same
poll were both connected then. Distinct clients over several days come from
the daily HyperLogLog sketches (:mod:`netmon.usage.hll`).

The package is pure: no SQL, no store. :mod:`netmon.store.usage` reads the
sessions, calls :func:`netmon.usage.arrays.aggregate` and replaces the day's
rows in one transaction.

- :mod:`netmon.usage.days`: local days, their hours, time zones;
- :mod:`netmon.usage.visits`: interval arithmetic, sessions joined into visits;
- :mod:`netmon.usage.definition`: :func:`aggregate_day`, the readable definition of every aggregate;
- :mod:`netmon.usage.arrays`: the same rows on numpy arrays, what a rebuild runs;
- :mod:`netmon.usage.hll`: HyperLogLog sketches of distinct clients.

The package itself offers the days and visits (plain Python); the aggregates
and sketches (numpy) are imported from their modules, so reading a date does
not load numpy.
"""

from netmon.usage.days import Slots, day_window, days, local_day, local_zone, runs
from netmon.usage.visits import (
    UNASSIGNED,
    UNKNOWN_REALM,
    Row,
    Visit,
    clip,
    components,
    families,
    measure,
    merge_visits,
    peak,
    reach,
    union,
)

__all__ = [
    "UNASSIGNED",
    "UNKNOWN_REALM",
    "Row",
    "Slots",
    "Visit",
    "clip",
    "components",
    "day_window",
    "days",
    "families",
    "local_day",
    "local_zone",
    "measure",
    "merge_visits",
    "peak",
    "reach",
    "runs",
    "union",
]
