"""The scheduler: every device polled at its own interval, none waiting on another.

One apscheduler (asyncio) job per device. A job polls its device under a
shared semaphore (bounded concurrency) and a per-device deadline, then hands
the result to a single writer thread that stores it in one transaction: the
event loop never waits on SQLite (a locked database delays the writes, not
the polls). ``max_instances=1`` with ``coalesce`` means a device still being
polled when its next turn comes is skipped, not stacked. First runs are
spread over the interval by a stable hash of the hostname, so 290 switches
do not all fire in the same second.

The scheduler watches the store's inventory generation: after ``netmon
inventory import``, new devices get jobs, removed ones lose theirs, changed
ones are rescheduled, without a restart.

A wireless controller (role ``wlc``) with an SSH profile and a controller
platform (``cisco_wlc_ssh``, ``cisco_xe``, ``cisco_ios``) but no SNMP profile is
polled over SSH instead (:func:`poll_wlc_ssh`): same interval, same deadline,
same store path, in the SSH thread pool rather than under the SNMP bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from collectors import cli, cli_parsers
from collectors.observations import CollectorRun, SystemInfo
from collectors.radius.fticks import FTicksSyslogListener
from collectors.radius.listener import AccountingListener, NasTable
from collectors.wlc import cli as wlc_cli
from inventory.ap_sites import site_rules
from netmon.config import Config, ConfigError, host_port
from netmon.poller import DevicePoll, Poller
from netmon.secrets import Secrets
from netmon.store import DeviceRow, Store
from netmon.store.radius import SessionSettings
from netmon.store.wifi import WifiSettings

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


def _record_wlc(store: Store, device: DeviceRow, result: DevicePoll, poller: Poller) -> None:
    """The controller's Wi-Fi data; a failure here is the wlc collector's, not the device's state."""
    cfg = poller.config
    try:
        interval = device.interval or cfg.interval
        settings = WifiSettings(frozenset(cfg.eduroam_ssids), interval, cfg.wifi_grace)
        site_of = site_rules(cfg.ap_site_rules, store.site_ids())
        at = result.read_at or result.started
        store.record_wlc(device, at, result.wlc, poller.secrets.privacy, settings, site_of)
    except Exception:
        log.exception("%s: could not store the Wi-Fi data", device.hostname)
        store.record_cli(device, result.started, [CollectorRun("wlc", 0.0, "store")])


def _record(store: Store, device: DeviceRow, result: DevicePoll, poller: Poller | None = None) -> list[dict]:
    try:
        events = store.record_poll(
            device,
            result.started,
            result.system,
            result.interfaces,
            result.runs,
            dropped=result.dropped,
            optics=result.optics,
            hardware=result.hardware,
            read_at=result.read_at,
            neighbors=result.neighbors,
            chassis_id=result.chassis_id,
        )
        if result.wlc is not None and poller is not None:
            _record_wlc(store, device, result, poller)
        return events
    except Exception:
        # A store failure (disk full, locked too long, a bug) must not leave the device
        # looking as it did at its last good poll: mark its state unknown instead.
        log.exception("%s: could not store the poll result", device.hostname)
        try:
            store.record_failure(device, result.started)
        except Exception:
            log.exception("%s: could not record the store failure either", device.hostname)
        return []


def wlc_over_ssh(device: DeviceRow) -> bool:
    """A controller whose Wi-Fi data comes over SSH: no SNMP profile, an SSH profile and a controller CLI."""
    return (
        device.role == "wlc"
        and not device.snmp_profile
        and bool(device.ssh_profile)
        and wlc_cli.is_wlc_platform(device.platform)
    )


def wlc_timeouts(deadline: float) -> cli.CliTimeouts:
    """SSH limits that fit inside a poll deadline: a quarter each for the steps of the login, half per command."""
    step = max(1.0, min(10.0, deadline / 4))
    return cli.CliTimeouts(step, step, step, step, max(1.0, min(30.0, deadline / 2)), max(1.0, deadline - 2.0))


async def poll_wlc_ssh(poller: Poller, device: DeviceRow, pool: ThreadPoolExecutor) -> DevicePoll:
    """One controller poll over SSH, as a DevicePoll the store takes like an SNMP one; never raises."""
    result = DevicePoll(device=device, started=time.time())
    t0 = time.perf_counter()
    deadline = poller.config.device_deadline(device.interval or poller.config.interval)
    creds = poller.secrets.ssh.get(device.ssh_profile)
    if creds is None:
        Poller._fail(result, "cli", "config", f"SSH profile {device.ssh_profile!r} not in secrets", 0.0)
        return result
    call = partial(
        wlc_cli.collect, device.address, device.ssh_port, device.platform, creds, wlc_timeouts(deadline),
        enable_secret=creds.enable_secret, label=device.hostname,
    )  # fmt: skip
    try:
        # netmiko's own limits end the session within the deadline; this bounds the wait for a pool slot too.
        out = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, call), deadline)
    except TimeoutError:
        Poller._fail(result, "wlc", "deadline", f"SSH poll exceeded its {deadline:.0f} s deadline", deadline)
        result.duration = time.perf_counter() - t0
        return result
    for error in out.errors:
        log.warning("%s: %s: %s (%s)", device.hostname, error.collector, error.message, error.reason)
    result.errors = list(out.errors)
    failed = {}
    for e in out.errors:
        failed.setdefault("cli" if e.collector == "cli" else "wlc", e.reason)
    result.runs.append(CollectorRun("cli", out.durations.get("connect", 0.0), failed.get("cli")))
    if "cli" not in failed:
        wlc_seconds = out.duration - out.durations.get("connect", 0.0)
        result.runs.append(CollectorRun("wlc", wlc_seconds, failed.get("wlc") if out.wlc is None else None))
        # The controller answered: it is up, even if its system command said nothing we understood.
        result.system = out.system or SystemInfo("", "", None, device.hostname)
        result.read_at = result.started + out.durations.get("connect", 0.0) + out.durations.get("system", 0.0)
        result.wlc = out.wlc
    result.duration = time.perf_counter() - t0
    return result


async def poll_and_record(
    poller: Poller,
    store: Store,
    device: DeviceRow,
    limit: asyncio.Semaphore,
    writer: ThreadPoolExecutor,
    ssh_pool: ThreadPoolExecutor | None = None,
) -> DevicePoll:
    if ssh_pool is not None and wlc_over_ssh(device):
        result = await poll_wlc_ssh(poller, device, ssh_pool)
    else:
        async with limit:
            result = await poller.poll(device)
    events = await asyncio.get_running_loop().run_in_executor(writer, _record, store, device, result, poller)
    for e in events:
        log.info("%s %s %s %s->%s %s", e["hostname"], e["kind"], e["ifname"] or "", e["old"], e["new"], e["message"])
    return result


def cli_runs(result: cli.CliResult) -> list[CollectorRun]:
    """The SSH collector's timings and errors as collector runs: ``cli`` (the session) and ``cli.<kind>``."""
    failed = {e.collector: e.reason for e in result.errors}
    runs = []
    for kind, seconds in result.durations.items():
        name = "cli" if kind == "connect" else f"cli.{kind}"
        runs.append(CollectorRun(name, seconds, failed.pop(name, None)))
    runs += [CollectorRun(name, 0.0, reason) for name, reason in failed.items()]
    return runs


async def collect_cli(
    secrets: Secrets, store: Store, device: DeviceRow, pool: ThreadPoolExecutor, writer: ThreadPoolExecutor
) -> cli.CliResult | None:
    """One SSH collection: netmiko in ``pool``, the result stored through ``writer``."""
    loop = asyncio.get_running_loop()
    started = time.time()
    creds = secrets.ssh.get(device.ssh_profile)
    if creds is None:
        run = CollectorRun("cli", 0.0, "config")
        log.warning("%s: SSH profile %r not in secrets", device.hostname, device.ssh_profile)
        await loop.run_in_executor(writer, partial(store.record_cli, device, started, [run]))
        return None
    result = await loop.run_in_executor(
        pool,
        partial(
            cli.collect, device.address, device.ssh_port, device.platform, creds,
            enable_secret=creds.enable_secret, label=device.hostname,
        ),
    )  # fmt: skip
    for error in result.errors:
        log.warning("%s: %s: %s (%s)", device.hostname, error.collector, error.message, error.reason)
    neighbors = None if result.lldp is None and result.cdp is None else result.neighbors
    record = partial(
        store.record_cli, device, started, cli_runs(result),
        hardware=result.hardware, optics=result.optics, neighbors=neighbors,
    )  # fmt: skip
    await loop.run_in_executor(writer, record)
    return result


async def poll_all(poller: Poller, store: Store, devices: list[DeviceRow], concurrency: int) -> list[DevicePoll]:
    """Poll every device once, concurrently (bounded), and record each result; ``netmon poll --all``."""
    limit = asyncio.Semaphore(concurrency)
    workers = max(1, poller.config.cli_workers)
    with (
        ThreadPoolExecutor(1, thread_name_prefix="netmon-store") as writer,
        ThreadPoolExecutor(workers, thread_name_prefix="netmon-ssh") as ssh_pool,
    ):
        polls = (poll_and_record(poller, store, d, limit, writer, ssh_pool) for d in devices)
        return list(await asyncio.gather(*polls))


async def start_accounting(config: Config, secrets: Secrets, store: Store, writer: ThreadPoolExecutor) -> list:
    """The RADIUS accounting listener (and the F-Ticks syslog one) when configured; [] when not.

    Both hand what they receive to ``writer``, the same single writer thread the polls use.
    """
    settings = config.radius
    if settings is None:
        return []
    if not secrets.radius:
        raise ConfigError(
            "radius: the accounting listener is configured but the secrets file declares no RADIUS clients"
        )
    if secrets.privacy is None:
        raise ConfigError(
            "radius: accounting sessions are stored only as pseudonyms: add 'privacy: {key: ...}' to the secrets file"
        )
    sessions = SessionSettings(frozenset(config.eduroam_ssids), settings.interim_interval)
    commit = partial(store.record_radius, pseudonyms=secrets.privacy, settings=sessions)
    started = []
    try:
        host, port = host_port(settings.listen, "0.0.0.0")
        started.append(await AccountingListener(NasTable(secrets.radius.values()), commit, writer).start(host, port))
        log.info("RADIUS accounting on udp %s:%d from %d declared clients", host, port, len(secrets.radius))
        if settings.fticks_listen:
            host, port = host_port(settings.fticks_listen)
            record = partial(_record_fticks, store, secrets.privacy)
            sources = settings.fticks_networks(n.network for n in secrets.radius.values())
            started.append(await FTicksSyslogListener(record, writer, sources).start(host, port))
            log.info("F-Ticks syslog on udp %s:%d from %d allowed networks", host, port, len(sources))
    except OSError as exc:
        for listener in started:
            listener.close()
        raise ConfigError(f"radius: cannot listen on udp {host}:{port}: {exc.strerror}") from None
    return started


def _record_fticks(store: Store, pseudonyms, events, malformed: int, dropped: int = 0) -> int:
    return store.record_fticks(events, pseudonyms, malformed, dropped)


class Scheduler:
    def __init__(
        self,
        config: Config,
        store: Store,
        poller: Poller,
        spread: float | None = None,
        inventory_check: float = INVENTORY_CHECK_SECONDS,
    ):
        self.config = config
        self.store = store
        self.poller = poller
        self.spread = config.interval if spread is None else spread
        self.limit = asyncio.Semaphore(config.concurrency)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="netmon-store")
        # netmiko blocks a thread per session: SSH collection gets its own bounded pool.
        self.cli_pool = ThreadPoolExecutor(max(1, config.cli_workers), thread_name_prefix="netmon-ssh")
        self.scheduler = AsyncIOScheduler()
        self.devices: dict[str, DeviceRow] = {}
        self.generation = -1
        self.inventory_check = inventory_check
        self.polls = 0

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
        """Make the jobs match ``devices``: add new, drop gone, reschedule changed."""
        wanted = {d.hostname: d for d in devices}
        for hostname in set(self.devices) - set(wanted):
            self.scheduler.remove_job(f"poll:{hostname}")
            if self.scheduler.get_job(f"cli:{hostname}"):
                self.scheduler.remove_job(f"cli:{hostname}")
            log.info("%s: no longer in the inventory, polling stopped", hostname)
        now = datetime.now().astimezone()
        for hostname, device in wanted.items():
            if self.devices.get(hostname) == device:
                continue
            interval = device.interval or self.config.interval
            offset = first_run_offset(device.hostname, interval, self.spread)
            self.scheduler.add_job(
                self._job,
                IntervalTrigger(seconds=interval),
                args=[device],
                id=f"poll:{hostname}",
                name=f"poll {hostname}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, interval // 2),
                next_run_time=now + timedelta(seconds=offset),
                replace_existing=True,
            )
            cli_job = f"cli:{hostname}"
            # The switch-style SSH collector (show version, inventory, optics, neighbours) where it knows the CLI;
            # an AireOS controller's CLI is read by the wlc poll instead.
            if device.ssh_profile and device.platform in cli_parsers.PLATFORMS and self.config.cli_interval:
                self.scheduler.add_job(
                    self._cli_job,
                    IntervalTrigger(seconds=self.config.cli_interval),
                    args=[device],
                    id=cli_job,
                    name=f"ssh {hostname}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=max(1, self.config.cli_interval // 2),
                    next_run_time=now + timedelta(seconds=offset + min(self.spread, 1.0)),
                    replace_existing=True,
                )
            elif self.scheduler.get_job(cli_job):
                self.scheduler.remove_job(cli_job)
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

    async def _job(self, device: DeviceRow) -> None:
        t0 = time.perf_counter()
        try:
            await poll_and_record(self.poller, self.store, device, self.limit, self.writer, self.cli_pool)
        except asyncio.CancelledError:
            log.info("%s: poll interrupted by shutdown", device.hostname)
            return
        except Exception:  # a bug: log it, keep the schedule alive
            log.exception("%s: poll job failed", device.hostname)
        self.polls += 1
        log.debug("%s polled in %.2f s", device.hostname, time.perf_counter() - t0)

    async def _cli_job(self, device: DeviceRow) -> None:
        try:
            await collect_cli(self.poller.secrets, self.store, device, self.cli_pool, self.writer)
        except asyncio.CancelledError:
            log.info("%s: SSH collection interrupted by shutdown", device.hostname)
        except Exception:
            log.exception("%s: SSH collection job failed", device.hostname)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.cli_pool.shutdown(wait=False, cancel_futures=True)
        self.writer.shutdown(wait=True)
