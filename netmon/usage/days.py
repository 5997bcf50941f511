"""Local days and hours: a day is a calendar day in the city's time zone, so a DST day has 23 or 25 hours."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_zone(name: str | None = None) -> ZoneInfo:
    """The named IANA zone, else the system's (``$TZ``, ``/etc/localtime``, ``/etc/timezone``), else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" names a folder of zones
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as America/Toronto)") from None
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return ZoneInfo("UTC")


def day_window(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """[local midnight, next local midnight) as epoch seconds."""
    lo = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    nxt = day + timedelta(days=1)
    return lo, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp()


def local_day(ts: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def runs(dates: list[date]) -> list[tuple[date, date]]:
    """Consecutive dates as (first, last) ranges."""
    out: list[list[date]] = []
    for d in sorted(dates):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1][1] = d
        else:
            out.append([d, d])
    return [(a, b) for a, b in out]


@dataclass(frozen=True)
class Slots:
    """The day's hours: start times and local hour labels (a DST day repeats or skips one)."""

    starts: list[float]
    hours: list[int]

    @classmethod
    def of(cls, lo: float, hi: float, tz: ZoneInfo) -> Slots:
        starts, hours = [], []
        t = lo
        while t < hi:
            starts.append(t)
            hours.append(datetime.fromtimestamp(t, tz).hour)
            t += 3600.0
        return cls(starts, hours)

    def index(self, t: float) -> int:
        return max(0, bisect.bisect_right(self.starts, t) - 1)

    def span(self, s: float, e: float) -> range:
        """Slots a closed interval [s, e] inside the day touches (an end exactly on the hour stays before it)."""
        first = self.index(s)
        last = max(first, bisect.bisect_left(self.starts, e) - 1) if e > s else first
        return range(first, last + 1)
