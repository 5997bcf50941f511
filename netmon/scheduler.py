"""The scheduler: every device polled at its own interval, none waiting on another.

One apscheduler (asyncio) job per device. A job polls its device under a
shared semaphore (bounded concurrency) and a per-device deadline, then
writes the result in one transaction. ``max_instances=1`` with ``coalesce``
means a device still being polled when its next turn comes is skipped, not
stacked. First runs are spread over the interval by a stable hash of the
hostname, so 290 switches do not all fire in the same second.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from netmon.config import Config
from netmon.poller import DevicePoll, Poller
from netmon.store import DeviceRow, Store

log = logging.getLogger(__name__)


def first_run_offset(hostname: str, interval: int, spread: float) -> float:
    """Stable offset in [0, min(interval, spread)) seconds for a device's first poll."""
    window = min(float(interval), spread)
    if window <= 0:
        return 0.0
    return (zlib.crc32(hostname.encode()) % 10_000) / 10_000 * window


async def poll_and_record(poller: Poller, store: Store, device: DeviceRow, limit: asyncio.Semaphore) -> DevicePoll:
    async with limit:
        result = await poller.poll(device)
    events = store.record_poll(
        device, result.started, result.system, result.interfaces, result.runs, dropped=result.dropped
    )
    for e in events:
        log.info("%s %s %s %s->%s %s", e["hostname"], e["kind"], e["ifname"] or "", e["old"], e["new"], e["message"])
    return result


async def poll_all(poller: Poller, store: Store, devices: list[DeviceRow], concurrency: int) -> list[DevicePoll]:
    """Poll every device once, concurrently (bounded), and record each result; ``netmon poll --all``."""
    limit = asyncio.Semaphore(concurrency)
    return list(await asyncio.gather(*(poll_and_record(poller, store, d, limit) for d in devices)))


class Scheduler:
    def __init__(self, config: Config, store: Store, poller: Poller, spread: float | None = None):
        self.config = config
        self.store = store
        self.poller = poller
        self.spread = config.interval if spread is None else spread
        self.limit = asyncio.Semaphore(config.concurrency)
        self.scheduler = AsyncIOScheduler()
        self.polls = 0

    def start(self, devices: list[DeviceRow]) -> None:
        now = datetime.now().astimezone()
        for device in devices:
            interval = device.interval or self.config.interval
            offset = first_run_offset(device.hostname, interval, self.spread)
            self.scheduler.add_job(
                self._job,
                IntervalTrigger(seconds=interval),
                args=[device],
                id=f"poll:{device.hostname}",
                name=f"poll {device.hostname}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, interval // 2),
                next_run_time=now + timedelta(seconds=offset),
            )
        self.scheduler.start()
        log.info(
            "scheduled %d devices (default interval %d s, concurrency %d)",
            len(devices),
            self.config.interval,
            self.config.concurrency,
        )

    async def _job(self, device: DeviceRow) -> None:
        t0 = time.perf_counter()
        try:
            await poll_and_record(self.poller, self.store, device, self.limit)
        except Exception:  # the store or a bug: log, keep the schedule alive
            log.exception("%s: poll job failed", device.hostname)
        self.polls += 1
        log.debug("%s polled in %.2f s", device.hostname, time.perf_counter() - t0)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
