"""``netmon run`` wired together: the store (with the inventory imported), the exporter, the poller and its scheduler,
the RADIUS and F-Ticks listeners. The CLI and the tests call this; nothing here parses arguments or prints tables.

Bad configuration found while starting (no devices, a port in use, an AP
site rule naming no site, accounting without clients or a pseudonym key) is
a :class:`netmon.config.ConfigError`, raised before anything runs and, as
far as it can be known before, before the database is created or written.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import inventory
from collectors.radius.fticks import FTicksSyslogListener
from collectors.radius.listener import AccountingListener, NasTable
from exporters import web as web_config
from exporters.prometheus import serve
from netmon import __version__
from netmon import secrets as secrets_mod
from netmon.config import Config, ConfigError, host_port
from netmon.poller import Poller
from netmon.scheduler import Scheduler
from netmon.secrets import Secrets
from netmon.shard import in_shard
from netmon.store import DeviceRow, Store
from netmon.store.radius import SessionSettings

log = logging.getLogger(__name__)


def prepare(cfg: Config, secrets: Secrets) -> inventory.Inventory | None:
    """Everything that can be checked before a file is written: the accounting settings, the inventory file (and
    the AP site rules against its sites), that there is something to poll. Returns the inventory, when configured."""
    check_accounting(cfg, secrets)
    inv = None
    if cfg.inventory is not None:
        inv = inventory.load(cfg.inventory, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
        _check_rule_sites(cfg, {s.name for s in inv.sites})
    if cfg.radius is None and not cfg.db.exists() and (inv is None or not inv.devices):
        raise ConfigError(f"no devices in {cfg.db}: run `netmon inventory import FILE`, or `netmon demo`")
    return inv


def open_store(cfg: Config, secrets: Secrets, inv: inventory.Inventory | None = None) -> tuple[Store, list[DeviceRow]]:
    """The store, with the inventory imported (all or nothing), and the devices to poll: those of ``cfg.shard``.

    The whole inventory is imported even into a shard's database: sites and links name devices of other
    shards, and the next import (or another shard count) needs no other file."""
    if inv is None:
        inv = prepare(cfg, secrets)
    store = Store(cfg.db)
    try:
        if inv is not None:
            store.import_inventory(inv)
        every = store.devices()
        devices = in_shard(every, cfg.shard)
        if not every and cfg.radius is None:
            raise ConfigError(f"no devices in {cfg.db}: run `netmon inventory import FILE`, or `netmon demo`")
        if not devices and cfg.radius is None:
            raise ConfigError(
                f"{cfg.source or 'configuration'}: shard {cfg.shard} holds none of the {len(every)} devices in "
                f"{cfg.db}: fewer shards, or this one is not needed"
            )
        check_site_rules(cfg, store)
    except BaseException:
        store.close()
        raise
    return store, devices


def check_site_rules(cfg: Config, store: Store) -> None:
    """Every ``ap_site_rules`` entry names a site of the inventory (their form was checked when the file loaded)."""
    _check_rule_sites(cfg, set(store.site_ids()))


def _check_rule_sites(cfg: Config, sites: set[str]) -> None:
    unknown = sorted({str(rule["site"]) for rule in cfg.ap_site_rules} - sites)
    if unknown:
        where = cfg.source or "configuration"
        raise ConfigError(f"{where}: ap_site_rules: no site {', '.join(map(repr, unknown))} in the inventory")


def check_accounting(config: Config, secrets: Secrets) -> None:
    """The accounting listener needs declared clients and a pseudonym key (sessions are stored only as pseudonyms)."""
    if config.radius is None:
        return
    if not secrets.radius:
        raise ConfigError(
            "radius: the accounting listener is configured but the secrets file declares no RADIUS clients"
        )
    if secrets.privacy is None:
        raise ConfigError(
            "radius: accounting sessions are stored only as pseudonyms: add 'privacy: {key: ...}' to the secrets file"
        )


def check_udp_ports(config: Config) -> None:
    """The listeners' UDP addresses can be bound (tried, then let go), so a port in use fails before the store is
    touched; the listeners themselves bind on the event loop."""
    if config.radius is None:
        return
    wanted = [host_port(config.radius.listen, "0.0.0.0")]
    if config.radius.fticks_listen:
        wanted.append(host_port(config.radius.fticks_listen))
    for host, port in wanted:
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"radius: cannot listen on udp {host}:{port}: {exc.strerror}") from None


async def start_accounting(config: Config, secrets: Secrets, store: Store, writer: Executor) -> list:
    """The RADIUS accounting listener (and the F-Ticks syslog one) when configured; [] when not.

    Both hand what they receive to ``writer``, the same single writer thread the polls use.
    """
    settings = config.radius
    if settings is None:
        return []
    check_accounting(config, secrets)
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


def _reach(host: str) -> str:
    """Says when a listener takes only local connections, so nobody wonders why the controllers cannot reach it."""
    try:
        return " (loopback only)" if ipaddress.ip_address(host).is_loopback else ""
    except ValueError:
        return ""


def _of_shard(cfg: Config) -> str:
    return "" if cfg.shard is None else f" (shard {cfg.shard})"


def _unreachable_nas(cfg: Config, secrets: Secrets) -> list[str]:
    """Declared RADIUS clients that a loopback-only listener cannot hear (the default since listeners bind loopback
    unless told otherwise): said at start, so accounting lost after an upgrade does not go unnoticed."""
    if cfg.radius is None or not _reach(host_port(cfg.radius.listen, "0.0.0.0")[0]):
        return []
    return [
        f"radius.listen {cfg.radius.listen} is loopback only, but RADIUS client {nas.name!r} sends from "
        f"{nas.network}: set radius.listen to an address it can reach"
        for nas in secrets.radius.values()
        if not nas.network.is_loopback
    ]


@dataclass
class Running:
    """A started netmon: what :func:`running` hands its caller."""

    store: Store
    devices: list[DeviceRow]
    poller: Poller
    scheduler: Scheduler
    listeners: list = field(default_factory=list)


@asynccontextmanager
async def running(
    cfg: Config, secrets: Secrets, store: Store, devices: list[DeviceRow], spread: float | None = None
) -> AsyncIterator[Running]:
    """Poller, scheduler and listeners on the running loop; all stopped on the way out, in the order that loses
    nothing: the listeners stop taking packets, the polls in flight finish (``shutdown_grace``), the writer
    commits what it holds, then the sessions close.

    ``spread`` None: each device at its phase of its interval; a number: first polls within it (tests)."""
    poller = Poller(cfg, secrets)
    scheduler = Scheduler(cfg, store, poller, spread=spread)
    try:
        listeners = await start_accounting(cfg, secrets, store, scheduler.writer)
    except BaseException:
        scheduler.shutdown()
        poller.close()
        raise
    scheduler.start(devices)
    try:
        yield Running(store, devices, poller, scheduler, listeners)
    finally:
        for listener in listeners:
            listener.close()
        try:
            await scheduler.stop()
        finally:
            poller.close()


def run(cfg: Config, duration: float | None = None, banner: str = "") -> int:
    """``netmon run``: until SIGINT/SIGTERM, or for ``duration`` seconds. Progress lines go to stderr."""
    secrets = secrets_mod.load(cfg.secrets)
    inv = prepare(cfg, secrets)
    # Ports first: a run that cannot listen fails before it creates or imports anything.
    host, port = cfg.listen_host_port
    check_udp_ports(cfg)
    web = web_config.load(cfg.web_config) if cfg.web_config is not None else None
    try:
        server, _thread = serve(cfg.db, host, port, cfg, web)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {cfg.listen}: {exc.strerror}") from None
    try:
        store, devices = open_store(cfg, secrets, inv)
    except BaseException:
        server.shutdown()
        raise
    scheme = "https" if web is not None and web.tls else "http"
    auth = ", basic auth" if web is not None and web.users else ""
    print(
        f"{banner}netmon {__version__}: {len(devices)} devices{_of_shard(cfg)}, every {cfg.interval} s; "
        f"metrics at {scheme}://{host}:{port}/metrics{_reach(host)}{auth}",
        file=sys.stderr,
        flush=True,
    )

    async def main_loop():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running(cfg, secrets, store, devices) as started:
            for listener in started.listeners:
                host, port = listener.address
                print(f"netmon: {type(listener).__name__} on udp {host}:{port}{_reach(host)}", file=sys.stderr,
                      flush=True)  # fmt: skip
            for warning in _unreachable_nas(cfg, secrets):
                print(f"netmon: warning: {warning}", file=sys.stderr, flush=True)
            try:
                await asyncio.wait_for(stop.wait(), timeout=duration)
            except TimeoutError:
                pass

    try:
        asyncio.run(main_loop())
    finally:
        server.shutdown()
        store.close()
    return 0
