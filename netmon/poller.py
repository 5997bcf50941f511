"""Poll one device: its due collectors over the sessions they need, timed, within a deadline, never raising.

A device has two jobs (NAV ipdevpoll's jobs: an interval and the schedules
it runs, :data:`JOBS`):

- ``poll``, every poll interval: what the device is now (system, interfaces,
  a controller's Wi-Fi), plus the slower reads (optics, hardware, topology)
  that ride on it when their own interval has passed, so one session and one
  deadline serve them all. Its result is the device's state.
- ``cli``, every ``cli_interval``: the switch-style SSH collection, adding to
  what SNMP gives.

The collectors come from :mod:`collectors.registry`; each says which
session it needs and whether it applies to the device
(:mod:`collectors.base`). SNMP sessions run under a shared concurrency
bound, SSH sessions (netmiko blocks) in a bounded thread pool, so a
controller polled over SSH goes through the same path as one polled over
SNMP.

This is where per-device failure handling lives: a timeout, an auth
failure or a collector bug becomes a :class:`collectors.observations.CollectorError`
for that device, and the scheduler moves on. When a gate collector fails
(``system``: the device did not answer) its session asks nothing else (one
timeout, not two).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from collectors.base import Collector, Context, SshSession
from collectors.observations import (
    CollectorError,
    CollectorRun,
    HardwareItem,
    InterfaceSample,
    Neighbor,
    Observations,
    OpticReading,
    Steps,
    SystemInfo,
    WlcResult,
)
from collectors.registry import COLLECTORS
from collectors.snmp.api import SnmpError, SnmpTarget
from collectors.snmp.client import SnmpClient
from netmon.config import Config
from netmon.secrets import Secrets
from netmon.store import DeviceRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What runs together on a device: collectors of these schedules (the first sets the job's interval; the
    others ride on it when due). ``owns_state``: its result is the device's up/down, not an addition to it; such
    a job must also end before the device's next turn (its deadline), where an addition is bounded by its
    sessions' own time limits (netmiko's, for the SSH collection)."""

    name: str
    schedules: tuple[str, ...]
    owns_state: bool


POLL = Job("poll", ("poll", "optics", "hardware", "topology"), owns_state=True)
CLI = Job("cli", ("cli",), owns_state=False)
JOBS = (POLL, CLI)


@dataclass
class DevicePoll:
    """One job's run on one device: what was observed, each collector's run, the errors."""

    device: DeviceRow
    started: float
    job: str = POLL.name
    duration: float = 0.0
    observed: Observations = field(default_factory=Observations)
    read_at: float | None = None  # when the device's uptime was read (sysUpTime answered)
    errors: list[CollectorError] = field(default_factory=list)
    runs: list[CollectorRun] = field(default_factory=list)
    requests: int = 0
    varbinds: int = 0
    current: str = ""  # the collector running when a deadline hits
    dropped: dict[str, int] = field(default_factory=dict)  # bad SNMP packets seen meanwhile, by reason

    @property
    def up(self) -> bool:
        return self.observed.system is not None

    @property
    def system(self) -> SystemInfo | None:
        return self.observed.system

    @property
    def interfaces(self) -> list[InterfaceSample] | None:
        return self.observed.interfaces

    @property
    def optics(self) -> list[OpticReading] | None:
        return self.observed.optics

    @property
    def hardware(self) -> list[HardwareItem] | None:
        return self.observed.hardware

    @property
    def neighbors(self) -> list[Neighbor] | None:
        """LLDP and CDP together; None when neither ran this time (keep what the store has)."""
        return self.observed.neighbors

    @property
    def wlc(self) -> WlcResult | None:
        return self.observed.wlc

    def fail(self, collector: str, reason: str, message: str, duration: float = 0.0) -> None:
        """A collector's failure: an error, a failed run, one log line."""
        self.errors.append(CollectorError(collector, reason, message))
        self.runs.append(CollectorRun(collector, duration, reason))
        log.warning("%s: %s: %s (%s)", self.device.hostname, collector, message, reason)

    def add(self, steps: Steps) -> None:
        """What a collector with steps of its own gave (its failures are logged here, like the poller's)."""
        for error in steps.errors:
            log.warning("%s: %s: %s (%s)", self.device.hostname, error.collector, error.message, error.reason)
        self.errors += steps.errors
        self.runs += steps.runs
        for observation in steps.observations:
            self.observed.add(observation)
        if steps.read_at is not None:
            self.read_at = steps.read_at


class Poller:
    """Polls devices: owns the SNMP engines, the SNMP concurrency bound and the SSH thread pool."""

    def __init__(
        self,
        config: Config,
        secrets: Secrets,
        client: SnmpClient | None = None,
        collectors: Sequence[Collector] = COLLECTORS,
    ):
        self.config = config
        self.secrets = secrets
        self.client = client or SnmpClient(config.snmp.engine)
        self.collectors = tuple(collectors)
        self.limit: asyncio.Semaphore | None = None  # SNMP sessions at once (see _limit)
        self._limit_loop = None
        # netmiko blocks a thread per session: SSH sessions get their own bounded pool.
        self.ssh_pool = ThreadPoolExecutor(max(1, config.cli_workers), thread_name_prefix="netmon-ssh")
        # (hostname, collector) -> monotonic time of its last success, for collectors slower than their job
        self._last_run: dict[tuple[str, str], float] = {}

    def close(self) -> None:
        self.ssh_pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def target(self, device: DeviceRow) -> SnmpTarget:
        s = self.config.snmp
        timeout = device.snmp_timeout if device.snmp_timeout is not None else s.timeout
        retries = device.snmp_retries if device.snmp_retries is not None else s.retries
        return SnmpTarget(device.address, device.port, timeout, retries, s.max_repetitions)

    def interval(self, job: Job, device: DeviceRow) -> int | None:
        """Seconds between the job's runs on the device; None when the job is switched off."""
        return self.config.schedule_every(job.schedules[0], device.interval)

    def jobs(self, device: DeviceRow) -> list[Job]:
        """The jobs the device needs: ``poll`` always (a device nothing can poll is reported, not skipped), the
        others when switched on and one of their collectors handles the device."""
        return [
            job
            for job in JOBS
            if job is POLL
            or (self.interval(job, device) and any(c.can_handle(device) for c in self._of(job, job.schedules[:1])))
        ]

    def _of(self, job: Job, schedules: Sequence[str]) -> list[Collector]:
        return [c for c in self.collectors if c.schedule in schedules]

    def _due(self, device: DeviceRow, job: Job) -> list[Collector]:
        """The job's own schedule every time; a slower one when its own interval has passed since its last success."""
        due = []
        for collector in self._of(job, job.schedules):
            if not collector.can_handle(device):
                continue
            if collector.schedule != job.schedules[0]:
                every = self.config.schedule_every(collector.schedule, device.interval)
                last = self._last_run.get((device.hostname, collector.name))
                if not every or (last is not None and time.monotonic() - last < every):
                    continue
            due.append(collector)
        return due

    async def poll(self, device: DeviceRow, job: Job = POLL) -> DevicePoll:
        """Run the job's due collectors within the device's deadline; whatever happens, return a result."""
        try:
            plan = self._due(device, job)
        except Exception as exc:  # a collector's can_handle with a bug: this device's error, not the poller's
            log.exception("%s: could not plan the %s job", device.hostname, job.name)
            result = DevicePoll(device=device, started=time.time(), job=job.name)
            result.fail(job.schedules[0], "internal", type(exc).__name__)
            return result
        snmp = any(c.needs == "snmp" for c in plan)
        # Waiting for a slot is not the device's time: its deadline starts once it has one.
        async with self._limit() if snmp else contextlib.nullcontext():
            result = DevicePoll(device=device, started=time.time(), job=job.name, current=plan[0].name if plan else "")
            t0 = time.perf_counter()
            deadline = self.config.device_deadline(self.interval(job, device) or self.config.interval)
            try:
                async with asyncio.timeout(deadline if job.owns_state else None):
                    await self._run(device, job, plan, result, deadline)
            except TimeoutError:
                over_ssh = any(c.name == result.current and c.needs == "ssh" for c in plan)
                what, spent = ("SSH poll", deadline) if over_ssh else ("poll", 0.0)
                result.fail(result.current, "deadline", f"{what} exceeded its {deadline:.0f} s deadline", spent)
            except SnmpError as exc:  # opening the session (e.g. a bad address)
                result.fail(result.current, exc.reason, str(exc))
            except Exception as exc:  # a bug outside the collectors: a result all the same
                log.exception("%s: poll failed", device.hostname)
                result.fail(result.current, "internal", type(exc).__name__)
            result.duration = time.perf_counter() - t0
            if snmp:  # the engine's drop counts are the SNMP polls' to report
                result.dropped = self.client.take_drops()
            return result

    def _limit(self) -> asyncio.Semaphore:
        """The SNMP concurrency bound of the running event loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._limit_loop is not loop:
            self._limit_loop, self.limit = loop, asyncio.Semaphore(self.config.concurrency)
        return self.limit

    async def _run(self, device: DeviceRow, job: Job, plan: list[Collector], result: DevicePoll, deadline: float):
        if not plan:
            first = next((c.name for c in self._of(job, job.schedules[:1])), job.name)
            why = "no SNMP profile" if not device.snmp_profile else "no collector handles the device"
            result.fail(first, "config", why)
            return
        for needs in dict.fromkeys(c.needs for c in plan):
            collectors = [c for c in plan if c.needs == needs]
            result.current = collectors[0].name
            if needs == "snmp":
                await self._snmp(device, collectors, result)
            else:
                await self._ssh(device, collectors, result, deadline)

    async def _snmp(self, device: DeviceRow, collectors: list[Collector], result: DevicePoll) -> None:
        creds = self.secrets.snmp.get(device.snmp_profile) if device.snmp_profile else None
        if creds is None:
            result.fail(result.current, "config", f"SNMP profile {device.snmp_profile!r} not in secrets")
            return
        session = await self.client.session(self.target(device), creds)
        try:
            await self._collect(device, collectors, session, result)
        finally:
            result.requests += session.stats.requests
            result.varbinds += session.stats.varbinds

    async def _ssh(self, device: DeviceRow, collectors: list[Collector], result: DevicePoll, deadline: float):
        creds = self.secrets.ssh.get(device.ssh_profile) if device.ssh_profile else None
        if creds is None:
            # The SSH session's own run is "cli", whichever collector would have used it.
            result.fail("cli", "config", f"SSH profile {device.ssh_profile!r} not in secrets")
            return
        session = SshSession(
            device.address, device.ssh_port, device.platform or "", creds, self._in_ssh_pool, deadline, device.hostname
        )
        await self._collect(device, collectors, session, result)

    async def _in_ssh_pool(self, call):
        return await asyncio.get_running_loop().run_in_executor(self.ssh_pool, call)

    async def _collect(self, device: DeviceRow, collectors: list[Collector], session, result: DevicePoll) -> None:
        context = Context(device)
        for collector in collectors:
            result.current = collector.name
            t = time.perf_counter()
            try:
                value = await collector.collect(session, context)
            except SnmpError as exc:
                result.fail(collector.name, exc.reason, str(exc), time.perf_counter() - t)
                if collector.gate:
                    return
                continue
            except Exception as exc:  # a collector bug must not take the poller down
                log.exception("%s: collector %s failed", device.hostname, collector.name)
                result.fail(collector.name, "internal", type(exc).__name__, time.perf_counter() - t)
                if collector.gate:
                    return
                continue
            if isinstance(value, Steps):
                result.add(value)
                if value.errors:
                    continue
            else:
                result.runs.append(CollectorRun(collector.name, time.perf_counter() - t))
                result.observed.add(value)
                if isinstance(value, SystemInfo):
                    result.read_at = time.time()  # the moment sysUpTime was answered
                    context = replace(context, system=value)
            self._last_run[(device.hostname, collector.name)] = time.monotonic()
