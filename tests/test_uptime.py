"""One uptime parser for every CLI netmon reads: each vendor's way of writing a duration gives the same seconds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collectors.cli_parsers import uptime_seconds

YEAR, WEEK, DAY, HOUR, MINUTE = 365 * 86400, 7 * 86400, 86400, 3600, 60


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def ios(y, w, d, h, m, s):  # "2 years, 31 weeks, 6 days, 9 hours, 55 minutes" (no seconds)
    parts = [_plural(n, u) for n, u in ((y, "year"), (w, "week"), (d, "day"), (h, "hour")) if n]
    return ", ".join([*parts, _plural(m, "minute")]), y * YEAR + w * WEEK + d * DAY + h * HOUR + m * MINUTE


def ios_s(y, w, d, h, m, s):  # "123 day(s), 5 hour(s), 15 minute(s), 19 second(s)"
    days = y * 365 + w * 7 + d
    return f"{days} day(s), {h} hour(s), {m} minute(s), {s} second(s)", days * DAY + h * HOUR + m * MINUTE + s


def nxos(y, w, d, h, m, s):  # "5 days, 3:02:01"
    days = y * 365 + w * 7 + d
    return f"{days} days, {h}:{m:02d}:{s:02d}", days * DAY + h * HOUR + m * MINUTE + s


def aireos(y, w, d, h, m, s):  # "109 days 16 hrs 33 mins 12 secs"
    days = y * 365 + w * 7 + d
    return f"{days} days {h} hrs {m} mins {s} secs", days * DAY + h * HOUR + m * MINUTE + s


def aruba(y, w, d, h, m, s):  # "2d:17h:8m:4s"
    days = y * 365 + w * 7 + d
    return f"{days}d:{h}h:{m}m:{s}s", days * DAY + h * HOUR + m * MINUTE + s


def compact(y, w, d, h, m, s):  # "1y2w", "5w2d", "3d04h": the two largest units
    units = [(y, "y", YEAR), (w, "w", WEEK), (d, "d", DAY), (h, "h", HOUR)]
    top = [(n, u, k) for n, u, k in units if n][:2] or [(0, "h", HOUR)]
    return "".join(f"{n:02d}{u}" if u == "h" else f"{n}{u}" for n, u, _ in top), sum(n * k for n, _, k in top)


@given(
    st.sampled_from([ios, ios_s, nxos, aireos, aruba, compact]),
    st.integers(0, 3),
    st.integers(0, 51),
    st.integers(0, 6),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)
def test_every_spelling_gives_the_same_seconds(render, y, w, d, h, m, s):
    text, seconds = render(y, w, d, h, m, s)
    assert uptime_seconds(text) == seconds, text


def test_nothing_recognisable_is_none():
    for text in ("", "never", "N/A", "up", "-"):
        assert uptime_seconds(text) is None
