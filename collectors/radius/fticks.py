"""F-Ticks: the eduroam authentication log line, as radsecproxy and FreeRADIUS write it to syslog.

``F-TICKS/eduroam/1.0#REALM=uni.example#VISCOUNTRY=NL#VISINST=1campus.example#CSI=aa-bb-..#RESULT=OK#``

Each line is one authentication of a visitor from ``REALM`` at the visited
institution ``VISINST`` (an Operator-Name: the leading ``1`` is the REALM
namespace of RFC 5580 and is dropped), with the station id ``CSI`` (a MAC,
or a hash when the server hashes it) and the result ``OK`` or ``FAIL``.
Whatever else a server adds (``PN``, ``USERNAME``: a person's identity) is
never kept. rsyslog's ``message repeated N times: [...]`` counts as N
events. A line that is not F-Ticks at all (other syslog traffic) is skipped;
an F-Ticks line without a usable REALM or RESULT is malformed, and reported
with its line number.

Also here: a UDP syslog receiver for servers that send F-Ticks straight to
netmon. Like the accounting listener, it hands events to the store's writer.
Syslog has no authentication, so it takes datagrams only from the allowed
sources (``radius.fticks_sources``), at most :data:`SOURCE_RATE` lines a
second from each (bursts of :data:`SOURCE_BURST`) and :data:`TOTAL_RATE` from all
together; at most :data:`MAX_PENDING` events wait for the writer, and each
commit takes at most :data:`MAX_BATCH`, so a flood delays the other writes
by one bounded batch. Everything else is dropped and counted by reason
(``unknown_source``, ``rate_limited``, ``overflow``). A field that does not
look like what it names (a VISINST that is no domain name, a VISCOUNTRY that
is no country code) is dropped rather than stored: on a broken line it may
hold anything, a client's MAC included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime

from collectors.radius.listener import normal_address
from netmon.limits import LogLimiter, RateLimiter
from netmon.privacy import realm_of

log = logging.getLogger(__name__)
RESULTS = ("OK", "FAIL")
_FTICKS = re.compile(r"F-TICKS/(?P<federation>[^/#\s]+)/(?P<version>\d[\d.]*)#(?P<body>.*)$")
_REPEATED = re.compile(r"message repeated (\d{1,12}) times: \[\s*F-TICKS/")
_ISO = re.compile(r"^(?:<\d{1,3}>\d?\s*)?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s")
_BSD = re.compile(r"^(?:<\d{1,3}>)?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)\s")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}  # noqa: SIM905
MAX_REPEAT = 100_000  # a "message repeated N times" line is one event of weight N, at most this
SOURCE_RATE, SOURCE_BURST = 50.0, 500.0  # datagrams a second from one source (a RADIUS server logs a line per login)
TOTAL_RATE, TOTAL_BURST = 500.0, 2000.0  # ... and from all sources together
MAX_PENDING = 20_000  # events waiting for the writer; beyond, datagrams are dropped as overflow
MAX_BATCH = 5_000  # events per commit: the writer is never held longer than one of these by F-Ticks
DROP_FLUSH = 1.0  # seconds: drop counts alone are committed at most this often
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class FTicksError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FTicksEvent:
    ts: float
    realm: str
    result: str  # OK | FAIL
    viscountry: str | None = None
    visinst: str | None = None
    csi: str | None = field(default=None, repr=False)  # raw: the store keeps a pseudonym
    repeat: int = 1


def _timestamp(line: str, now: float) -> float:
    m = _ISO.match(line)
    if m:
        text = m.group(1).replace("Z", "+00:00")
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return now
        return stamp.timestamp() if stamp.tzinfo else stamp.astimezone().timestamp()
    m = _BSD.match(line)
    if m and m.group(1) in _MONTHS:
        # RFC 3164 has no year: this year, unless that is in the future (a log from last December).
        year = datetime.fromtimestamp(now).year
        fields = (_MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
        try:
            stamp = datetime(year, *fields).timestamp()
            if stamp > now + 86400:
                stamp = datetime(year - 1, *fields).timestamp()
        except ValueError:
            return now
        return stamp
    return now


def parse_line(line: str, now: float | None = None) -> FTicksEvent | None:
    """The event in a log line; None when the line is not F-Ticks; :class:`FTicksError` when it is but broken."""
    if "F-TICKS" not in line:
        return None
    now = time.time() if now is None else now
    text = line.strip()
    m = _FTICKS.search(text)
    if m is None:
        raise FTicksError("F-TICKS without a federation/version header and '#' fields")
    repeat = 1
    r = _REPEATED.search(text)
    body = m.group("body")
    if r:
        repeat = max(1, min(int(r.group(1)), MAX_REPEAT))
        body = body.rstrip().removesuffix("]")
    fields: dict[str, str] = {}
    for number, part in enumerate(body.split("#"), 1):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.isalnum():
            # Position and size only: without its '=' the field may be a value itself (``CSI 00:11:22:..``, a MAC)
            raise FTicksError(f"field {number} ({len(part)} characters) is not KEY=VALUE")
        fields.setdefault(key.upper(), value.strip())
    realm_text = fields.get("REALM", "")
    if not realm_text:
        raise FTicksError("no REALM")
    realm = realm_of(f"x@{realm_text}")
    if realm is None:
        raise FTicksError("REALM is not a domain name")
    result = fields.get("RESULT", "").upper()
    if result not in RESULTS:
        raise FTicksError("RESULT is not OK or FAIL" if result else "no RESULT")
    visinst = fields.get("VISINST") or None
    if visinst and visinst[0] == "1" and "." in visinst[1:]:
        visinst = visinst[1:]  # the Operator-Name REALM namespace
    # Only what looks like what the field names is kept: on a broken line a field may hold anything.
    visinst = realm_of(f"x@{visinst}") if visinst else None
    raw_country = fields.get("VISCOUNTRY") or ""
    country = raw_country.upper() if _COUNTRY.match(raw_country.upper()) and raw_country.isascii() else ""
    return FTicksEvent(
        ts=_timestamp(text, now),
        realm=realm,
        result=result,
        viscountry=country or None,
        visinst=visinst,
        csi=fields.get("CSI") or None,
        repeat=repeat,
    )


@dataclass
class ParseResult:
    events: list[FTicksEvent] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)
    other: int = 0  # lines that are not F-Ticks


def parse_lines(lines: Iterable[str], now: float | None = None) -> ParseResult:
    out = ParseResult()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            event = parse_line(line, now)
        except FTicksError as exc:
            out.malformed.append((number, str(exc)))
            continue
        if event is None:
            out.other += 1
        else:
            out.events.append(event)
    return out


class FTicksSyslogListener(asyncio.DatagramProtocol):
    """F-Ticks over UDP syslog: each datagram one or more lines; events committed in batches by ``commit``.

    ``commit(events, malformed, dropped)``: ``dropped`` counts datagrams not read, by reason: ``unknown_source``
    (not in ``sources``, addresses or networks; None: every source: anyone who can reach the port could
    otherwise invent authentications), ``rate_limited`` and ``overflow`` (see the module's docstring).
    """

    def __init__(
        self,
        commit: Callable[[list[FTicksEvent], int, Counter], object],
        executor: Executor,
        sources: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
        limiter: RateLimiter | None = None,
    ):
        self.commit, self.executor = commit, executor
        self.sources = None if sources is None else tuple(sources)
        self.limiter = (
            limiter if limiter is not None else RateLimiter(SOURCE_RATE, SOURCE_BURST, TOTAL_RATE, TOTAL_BURST)
        )
        self.transport = None
        self._events: list[FTicksEvent] = []
        self._malformed = 0
        self._dropped: Counter = Counter()
        self._flushing = False
        self._drop_flush = False
        self._logged = LogLimiter()  # once a minute per source
        self._allowed: dict[str, bool] = {}
        self.received = 0
        self.dropped = 0  # since start, for tests

    async def start(self, host: str, port: int) -> FTicksSyslogListener:
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self.transport.get_extra_info("sockname")[:2]

    def connection_made(self, transport) -> None:
        self.transport = transport

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def allowed(self, source: str) -> bool:
        if self.sources is None:
            return True
        found = self._allowed.get(source)
        if found is None:
            ip = normal_address(source)
            found = ip is not None and any(ip in network for network in self.sources)
            if len(self._allowed) < 65536:
                self._allowed[source] = found
        return found

    def _warn(self, source: str, now: float, message: str, *args) -> None:
        """At most one message a minute per source; the memory of who was logged is pruned as it grows."""
        if self._logged.allow(source, now):
            log.warning(message + " (at most once a minute per source)", source, *args)

    def _drop(self, source: str, now: float, reason: str, why: str) -> None:
        self._dropped[reason] += 1
        self.dropped += 1
        self._warn(source, now, "F-Ticks: dropped a datagram from %s: " + why)
        # Drop counts ride on the next commit, or one a second: a flood of refused datagrams is no flood of commits.
        if self._events or self._malformed:
            self._schedule()
        elif not self._drop_flush:
            self._drop_flush = True
            asyncio.get_running_loop().call_later(DROP_FLUSH, self._flush_drops)

    def _flush_drops(self) -> None:
        self._drop_flush = False
        self._schedule()

    def datagram_received(self, data: bytes, addr) -> None:
        self.received += 1
        now = time.time()
        if not self.allowed(addr[0]):
            self._drop(addr[0], now, "unknown_source", "not an allowed source (radius.fticks_sources)")
            return
        lines = data.decode("utf-8", "replace").splitlines()
        # Each line is one syslog message (RFC 5426 sends one per datagram): the limit counts lines.
        if not self.limiter.allow(addr[0], now, max(1, len(lines))):
            self._drop(addr[0], now, "rate_limited", "over the rate limit")
            return
        if len(self._events) >= MAX_PENDING:
            self._drop(addr[0], now, "overflow", "the store is behind (too many events waiting)")
            return
        for line in lines:
            try:
                event = parse_line(line, now)
            except FTicksError as exc:
                self._malformed += 1
                self._warn(addr[0], now, "F-Ticks: malformed line from %s: %s", exc)
                continue
            if event is not None:
                self._events.append(event)
        self._schedule()

    def _schedule(self) -> None:
        if self._flushing or not (self._events or self._malformed or self._dropped):
            return
        self._flushing = True
        events, self._events = self._events[:MAX_BATCH], self._events[MAX_BATCH:]
        malformed, dropped = self._malformed, self._dropped
        self._malformed, self._dropped = 0, Counter()
        future = asyncio.get_running_loop().run_in_executor(self.executor, self.commit, events, malformed, dropped)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        self._flushing = False
        if not future.cancelled() and future.exception() is not None:
            log.error("F-Ticks: could not store events: %r", future.exception())
        self._schedule()

    async def drain(self) -> None:
        for _ in range(1000):
            if not self._flushing and not self._events and not self._malformed and not self._dropped:
                return
            await asyncio.sleep(0.01)
