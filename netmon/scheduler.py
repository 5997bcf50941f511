"""The scheduler: every device polled at its own interval, none waiting on another.

One apscheduler (asyncio) job per device and poller job (:data:`netmon.poller.JOBS`:
``poll`` at the device's interval, ``cli`` at ``cli_interval`` where an SSH
collector applies). A job polls its device through the poller (bounded
concurrency, a per-device deadline), then hands
the result to a single writer thread that stores it in one transaction: the
event loop never waits on SQLite (a locked database delays the writes, not
the polls). ``max_instances=1`` with ``coalesce`` means a device still being
polled when its next turn comes is skipped, not stacked.

Each device polls at its own phase of the interval, a stable hash of its
hostname, counted from the Unix epoch (as Prometheus offsets each target's
scrapes): 290 switches on a 60 s interval are about five a second, the same
second of the minute after every restart and in every shard, never all at
once.

Stopping (:meth:`Scheduler.stop`) starts nothing new, lets the polls in
flight finish within a grace period, then flushes the writer: SIGTERM in
the middle of a cycle loses nothing and logs no failure.

The scheduler watches the store's inventory generation: after ``netmon
inventory import``, new devices get jobs, removed ones lose theirs, changed
ones are rescheduled, without a restart.

Which collectors a job runs, and over which session, is the poller's
business (:mod:`netmon.poller`); storing a result is the recorder's
(:mod:`netmon.recorder`), on the single writer thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from netmon.config import Config
from netmon.poller import CLI, POLL, DevicePoll, Job, Poller
from netmon.recorder import Recorder
from netmon.shard import in_shard
from netmon.store import DeviceRow, Store

log = logging.getLogger(__name__)
INVENTORY_CHECK_SECONDS = 10
RETENTION_EVERY = 86400.0
# Maintenance waits a little after start-up: the first polls matter more.
MAINTENANCE_DELAY = 60.0


def first_run_offset(hostname: str, interval: int, spread: float) -> float:
    """Stable offset in [0, min(interval, spread)) seconds for a device's first poll."""
    window = min(float(interval), spread)
    if window <= 0:
        return 0.0
    return (zlib.crc32(hostname.encode()) % 10_000) / 10_000 * window


def next_phase_time(hostname: str, interval: int, now: float) -> float:
    """The first Unix time at or after ``now`` that is the device's phase of ``interval``: times of the form
    k x interval + offset, the offset :func:`first_run_offset` over the whole interval.

    Counted from the epoch rather than from start-up, so a restart (or another shard) keeps every device
    in its slot and the load stays flat across them.
    """
    offset = first_run_offset(hostname, interval, interval)
    k = -((offset - now) // interval)  # ceil((now - offset) / interval)
    return k * interval + offset


async def poll_and_record(
    poller: Poller, recorder: Recorder, device: DeviceRow, writer: ThreadPoolExecutor, job: Job = POLL
) -> DevicePoll:
    result = await poller.poll(device, job)
    events = await asyncio.get_running_loop().run_in_executor(writer, recorder.record, result)
    for e in events:
        log.info("%s %s %s %s->%s %s", e["hostname"], e["kind"], e["ifname"] or "", e["old"], e["new"], e["message"])
    return result


async def poll_all(poller: Poller, store: Store, devices: list[DeviceRow], job: Job = POLL) -> list[DevicePoll]:
    """Run one job on every device once, concurrently (the poller's bounds), and record each; ``netmon poll``."""
    recorder = Recorder(store, poller.config, poller.secrets.privacy)
    with ThreadPoolExecutor(1, thread_name_prefix="netmon-store") as writer:
        return list(await asyncio.gather(*(poll_and_record(poller, recorder, d, writer, job) for d in devices)))


class Scheduler:
    def __init__(
        self,
        config: Config,
        store: Store,
        poller: Poller,
        spread: float | None = None,
        inventory_check: float = INVENTORY_CHECK_SECONDS,
    ):
        """``spread`` None (netmon run): every device at its phase of its interval (:func:`next_phase_time`).
        A number (tests, ``netmon poll``'s callers): first runs within that many seconds of now."""
        self.config = config
        self.store = store
        self.poller = poller
        self.spread = spread
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="netmon-store")
        self.recorder = Recorder(store, config, poller.secrets.privacy if poller is not None else None)
        self.scheduler = AsyncIOScheduler()
        self.devices: dict[str, DeviceRow] = {}
        self.generation = -1
        self.inventory_check = inventory_check
        self.polls = 0
        self._in_flight: set[asyncio.Task] = set()
        self._stopping = False

    def start(self, devices: list[DeviceRow] | None = None) -> None:
        self.generation = self.store.inventory_generation()
        self.sync(self.store.devices() if devices is None else devices)
        self.scheduler.add_job(
            self._check_inventory,
            IntervalTrigger(seconds=self.inventory_check),
            id="inventory",
            max_instances=1,
            coalesce=True,
        )
        self._schedule_maintenance()
        if self.config.radius is not None:
            self.scheduler.add_job(
                self._radius_timeouts,
                IntervalTrigger(seconds=self.config.radius.timeout_check),
                id="radius-timeouts",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.start()
        log.info(
            "scheduled %d devices (default interval %d s, concurrency %d)",
            len(self.devices),
            self.config.interval,
            self.config.concurrency,
        )

    def sync(self, devices: list[DeviceRow]) -> None:
        """Make the jobs match ``devices``: add new, drop gone, reschedule changed.

        Only the devices of the configured shard: every inventory import brings the whole city into each
        shard's database, and the re-sync after one must not start polling the other shards' devices."""
        wanted = {d.hostname: d for d in in_shard(devices, self.config.shard)}
        for hostname in set(self.devices) - set(wanted):
            for job in (POLL, CLI):
                if self.scheduler.get_job(f"{job.name}:{hostname}"):
                    self.scheduler.remove_job(f"{job.name}:{hostname}")
            log.info("%s: no longer in the inventory, polling stopped", hostname)
        now = datetime.now().astimezone()
        for hostname, device in wanted.items():
            if self.devices.get(hostname) == device:
                continue
            every = device.interval or self.config.interval
            if self.spread is None:
                offset = next_phase_time(device.hostname, every, now.timestamp()) - now.timestamp()
            else:
                offset = first_run_offset(device.hostname, every, self.spread)
            jobs = self.poller.jobs(device)
            for job in (POLL, CLI):
                job_id = f"{job.name}:{hostname}"
                if job not in jobs:
                    if self.scheduler.get_job(job_id):
                        self.scheduler.remove_job(job_id)
                    continue
                interval = self.poller.interval(job, device)
                # The SSH collection a moment after the poll: the SNMP poll names the ports it reports on.
                start = offset if job is POLL else offset + min(every if self.spread is None else self.spread, 1.0)
                self.scheduler.add_job(
                    self._job,
                    IntervalTrigger(seconds=interval),
                    args=[device, job],
                    id=job_id,
                    name=f"{'poll' if job is POLL else 'ssh'} {hostname}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=max(1, interval // 2),
                    next_run_time=now + timedelta(seconds=start),
                    replace_existing=True,
                )
        self.devices = wanted

    def _schedule_maintenance(self) -> None:
        """Usage aggregation (yesterday and today, every ``usage_interval``) and daily retention."""
        now = datetime.now().astimezone()
        if self.config.usage_interval:
            self.scheduler.add_job(
                self._usage_job,
                IntervalTrigger(seconds=self.config.usage_interval),
                id="usage",
                name="usage aggregation",
                max_instances=1,
                coalesce=True,
                next_run_time=now + timedelta(seconds=min(MAINTENANCE_DELAY, self.config.usage_interval)),
            )
        self.scheduler.add_job(
            self._retention_job,
            IntervalTrigger(seconds=RETENTION_EVERY),
            id="retention",
            name="retention",
            max_instances=1,
            coalesce=True,
            next_run_time=now + timedelta(seconds=2 * MAINTENANCE_DELAY),
        )

    async def _on_writer(self, failure: str, fn, *args):
        """Maintenance through the writer thread, like every other write: a poll's write waits, the polls do not.

        Returns ``fn``'s result, or None when it failed (logged as ``failure``) or the scheduler is stopping.
        """
        try:
            return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)
        except asyncio.CancelledError:
            return None
        except Exception:
            log.exception(failure)
            return None

    async def _usage_job(self) -> None:
        done = await self._on_writer("usage aggregation failed", self.store.rebuild_recent_usage, self.config.zone())
        if done is not None:
            log.info("usage aggregated for %s (%d sessions read)", ", ".join(done.days), done.source_sessions)

    async def _retention_job(self) -> None:
        cfg = self.config
        done = await self._on_writer("retention failed", self.store.apply_retention, cfg.retention_days, cfg.zone())
        if done is not None:
            log.info("retention: kept from %s; deleted %s", done.cutoff_day, done.deleted)

    async def _check_inventory(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            generation = await loop.run_in_executor(self.writer, self.store.inventory_generation)
        except asyncio.CancelledError:
            return  # shutting down
        if generation != self.generation:
            self.generation = generation
            self.sync(await loop.run_in_executor(self.writer, self.store.devices))
            log.info("inventory changed: now %d devices", len(self.devices))

    async def _radius_timeouts(self) -> None:
        """Close accounting sessions that have been silent for 3 x their interim interval."""
        closed = await self._on_writer(
            "RADIUS: could not close timed-out sessions",
            self.store.close_timed_out_radius, time.time(), self.config.radius.interim_interval,
        )  # fmt: skip
        if closed:
            log.info("RADIUS: %d sessions timed out (no update for 3 interim intervals)", closed)

    async def _job(self, device: DeviceRow, job: Job = POLL) -> None:
        if self._stopping:
            return  # due just as the stop began
        t0 = time.perf_counter()
        what = "poll" if job is POLL else "SSH collection"
        task = asyncio.current_task()
        self._in_flight.add(task)
        try:
            await poll_and_record(self.poller, self.recorder, device, self.writer, job)
        except asyncio.CancelledError:
            log.info("%s: %s interrupted by shutdown", device.hostname, what)
            return
        except Exception:  # a bug: log it, keep the schedule alive
            log.exception("%s: %s job failed", device.hostname, what)
        finally:
            self._in_flight.discard(task)
        if job is POLL:
            self.polls += 1
        log.debug("%s: %s in %.2f s", device.hostname, what, time.perf_counter() - t0)

    async def stop(self, grace: float | None = None) -> None:
        """Start nothing new, give the polls in flight ``grace`` seconds (``shutdown_grace``) to finish and be
        stored, cancel what is left, then flush the writer. The writer stops last: a poll that finishes in the
        grace period still has its transaction."""
        grace = self.config.shutdown_grace if grace is None else grace
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutdown() would cancel the running ones
        pending = {t for t in self._in_flight if not t.done()}
        if pending:
            log.info("stopping: waiting up to %g s for %d polls in flight", grace, len(pending))
            _done, pending = await asyncio.wait(pending, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
                log.warning("stopping: %d polls cancelled after the %g s grace period", len(pending), grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        # Queued writes (listeners' records, the last polls) are committed before the store closes.
        await asyncio.get_running_loop().run_in_executor(None, self.writer.shutdown, True)

    def shutdown(self) -> None:
        """Stop at once (no grace); for callers outside an event loop's shutdown path."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.writer.shutdown(wait=True)
