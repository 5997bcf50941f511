"""The scheduler: a dead or slow device never delays the others."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import Counter

import inventory
from collectors.credentials import SnmpV2cCredentials
from inventory.model import Device, Inventory, Site
from netmon import secrets as netmon_secrets
from netmon.config import Config, SnmpSettings
from netmon.poller import Poller
from netmon.scheduler import Scheduler, first_run_offset, next_phase_time, poll_all
from netmon.secrets import Secrets
from netmon.store import Store
from tests.udp_peers import BlackHole, DelayRelay


def test_first_run_offsets_are_stable_and_spread():
    offsets = [first_run_offset(f"sw-{i:03d}", 60, 60) for i in range(300)]
    assert offsets == [first_run_offset(f"sw-{i:03d}", 60, 60) for i in range(300)]
    assert all(0 <= o < 60 for o in offsets)
    assert max(offsets) - min(offsets) > 50  # not bunched
    assert first_run_offset("x", 60, 0) == 0


def test_dead_and_slow_devices_do_not_delay_the_others(lab, tmp_path):
    lab_inv = inventory.load(lab.inventory_path)
    healthy = [d for d in lab_inv.devices if d.snmp_profile not in (None, "lab-v3")]  # SNMP v2c (no wlc-annex)
    router = next(d for d in healthy if d.role == "router")  # few ports: few requests, each 3 s late

    async def go():
        dead = await BlackHole.start()
        slow = await DelayRelay.start(("127.0.0.1", lab.agent_port), delay=3.0)
        site = lab_inv.sites[0].name
        devices = [
            *healthy,
            Device("dead-sw", "127.0.0.1", site, "switch", "dead", port=dead.port),
            # The slow device gets a timeout long enough for its 3 s answers: it must succeed, late.
            Device("slow-sw", "127.0.0.1", site, "switch", "slow", port=slow.port, timeout=5.0, retries=0),
        ]
        inv = Inventory(sites=[Site(s.name, s.kind) for s in lab_inv.sites], devices=devices)
        store = Store(tmp_path / "n.db")
        store.import_inventory(inv)
        secrets = Secrets(
            snmp={
                **{d.snmp_profile: SnmpV2cCredentials(d.snmp_profile, d.hostname) for d in healthy},
                "dead": SnmpV2cCredentials("dead", "anything"),
                "slow": SnmpV2cCredentials("slow", router.hostname),
            }
        )
        cfg = Config(db=tmp_path / "n.db", interval=60, concurrency=4, snmp=SnmpSettings(timeout=1.0, retries=1))
        finished: dict[str, float] = {}
        record = store.record_poll

        def timed_record(device, *args, **kwargs):
            finished[device.hostname] = time.monotonic() - t0
            return record(device, *args, **kwargs)

        store.record_poll = timed_record
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0)
        t0 = time.monotonic()
        scheduler.start(store.devices())
        for _ in range(300):  # at most 30 s: the slow device pays 3 s per request
            if len(finished) == len(devices):
                break
            await asyncio.sleep(0.1)
        scheduler.shutdown()
        poller.close()
        dead.close()
        slow.close()
        return store, finished, dead.protocol.received

    store, finished, dead_requests = asyncio.run(go())
    states = {d["hostname"]: d for d in store.device_states()}
    assert set(finished) == set(states), finished
    for d in healthy:
        assert states[d.hostname]["up"] == 1
        assert finished[d.hostname] < 2.5, finished  # on time, while slow-sw is still waiting
    assert states["slow-sw"]["up"] == 1 and finished["slow-sw"] >= 3.0, finished
    assert states["dead-sw"]["up"] == 0 and states["dead-sw"]["last_error_reason"] == "timeout"
    assert dead_requests == 2  # one try plus one retry, then the poller gave up
    events = {(e["hostname"], e["kind"]) for e in store.events()}
    assert ("dead-sw", "device_down") in events


def _lab_setup(lab, tmp_path, keep=None):
    inv = inventory.load(lab.inventory_path)
    devices = [d for d in inv.devices if keep is None or d.hostname in keep]
    store = Store(tmp_path / "n.db")
    store.import_inventory(Inventory(sites=inv.sites, devices=devices))
    secrets = netmon_secrets.load(lab.secrets_path)
    cfg = Config(db=tmp_path / "n.db", interval=60, concurrency=8, snmp=SnmpSettings(timeout=1.0, retries=1))
    return inv, store, secrets, cfg


async def _wait_for(predicate, seconds: float) -> bool:
    for _ in range(int(seconds * 10)):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


def test_scheduler_follows_inventory_imports(lab, tmp_path):
    inv, store, secrets, cfg = _lab_setup(lab, tmp_path, keep={lab.devices[0].hostname, lab.devices[1].hostname})
    polled: list[str] = []
    record = store.record_poll

    def spy(device, *args, **kwargs):
        polled.append(device.hostname)
        return record(device, *args, **kwargs)

    store.record_poll = spy

    async def go():
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0, inventory_check=0.3)
        scheduler.start()
        try:
            assert await _wait_for(lambda: len(polled) == 2, 10), polled
            admin = Store(tmp_path / "n.db")  # `netmon inventory import` in another process
            admin.import_inventory(inv)  # every lab device now
            assert await _wait_for(lambda: len(set(polled)) == len(inv.devices), 10), polled
            keep = Inventory(sites=inv.sites, devices=inv.devices[:1])
            admin.import_inventory(keep, prune=True)
            assert await _wait_for(lambda: list(scheduler.devices) == [inv.devices[0].hostname], 5)
        finally:
            scheduler.shutdown()
            poller.close()

    asyncio.run(go())


def test_a_locked_database_delays_writes_not_polls(lab, tmp_path):
    """Another process holds the write lock for 2 s: the event loop keeps running, nothing is lost."""
    _inv, store, secrets, cfg = _lab_setup(lab, tmp_path)
    other = sqlite3.connect(tmp_path / "n.db", isolation_level=None)

    async def go():
        loop = asyncio.get_running_loop()
        lags: list[float] = []

        async def ticker():
            for _ in range(60):
                t = loop.time()
                await asyncio.sleep(0.05)
                lags.append(loop.time() - t - 0.05)

        other.execute("BEGIN IMMEDIATE")
        loop.call_later(2.0, other.execute, "COMMIT")
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0)
        tick = asyncio.ensure_future(ticker())
        scheduler.start()
        try:
            # Read as the exporter does, through a connection of its own: the store's is the writer's.
            reader = Store(tmp_path / "n.db", readonly=True)
            stored = await _wait_for(lambda: all(d["up"] == 1 for d in reader.device_states()), 15)
            await tick
        finally:
            scheduler.shutdown()
            poller.close()
        return stored, max(lags)

    stored, worst_lag = asyncio.run(go())
    assert stored
    assert worst_lag < 0.5, worst_lag  # the loop never sat in SQLite's busy wait


def test_a_store_failure_leaves_the_device_unknown_not_stale(lab, tmp_path):
    _inv, store, secrets, cfg = _lab_setup(lab, tmp_path, keep={lab.devices[0].hostname})

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    async def go():
        poller = Poller(cfg, secrets)
        try:
            await poll_all(poller, store, store.devices())  # a good poll first
            store.record_poll = broken
            return await poll_all(poller, store, store.devices())
        finally:
            poller.close()

    results = asyncio.run(go())
    assert results[0].up  # the device answered...
    state = store.device_states()[0]
    assert state["up"] is None and state["last_error_reason"] == "store"  # ...but we could not keep it


def test_ssh_collection_of_the_lab_switch_is_stored(lab, tmp_path):
    """netmiko logs in to the lab's SSH switch; its optics, hardware and neighbours land in the store."""
    from netmon.poller import CLI

    _inv, store, secrets, cfg = _lab_setup(lab, tmp_path)
    device = next(d for d in store.devices() if d.ssh_profile)

    async def go():
        poller = Poller(cfg, secrets)
        try:
            await poll_all(poller, store, store.devices())  # SNMP first: interfaces to match ports
            return (await poll_all(poller, store, [device], CLI))[0]
        finally:
            poller.close()

    result = asyncio.run(go())
    assert result.errors == [], result.errors
    status = {c["collector"]: c for c in store.collector_states() if c["hostname"] == device.hostname}
    assert {"cli", "cli.system", "cli.hardware", "cli.optics", "cli.lldp", "cli.cdp"} <= set(status)
    assert all(s["last_error_reason"] is None for s in status.values())
    hardware = [h for h in store.hardware() if h["hostname"] == device.hostname]
    assert [h["model"] for h in hardware if h["class"] == "transceiver"] == ["SFP-10G-LR", "SFP-10G-LR"]
    links = [link for link in store.links() if link["a_device"] == device.hostname]
    # LLDP and CDP each see both ring neighbours; CDP's long port names are stored as the ifName.
    assert {(link["protocol"], link["a_port"], link["b_port"]) for link in links} >= {
        ("lldp", "Te1/1/1", "Te1/1/2"),
        ("cdp", "Te1/1/1", "Te1/1/2"),
        ("cdp", "Te1/1/2", "Te1/1/1"),
    }
    assert all(link["b_device"] is not None for link in links)


def test_each_device_polls_at_its_own_phase_of_the_interval_counted_from_the_epoch():
    hosts = [f"sw-{i:03d}" for i in range(290)]
    now = 1_800_000_000.25
    for interval in (60, 300, 17):
        times = [next_phase_time(h, interval, now) for h in hosts]
        assert all(now <= t < now + interval for t in times)
        # the same slot after a restart an hour (or any time) later: only whole intervals apart
        later = [next_phase_time(h, interval, now + 3600.5) for h in hosts]
        cycles = [(b - a) / interval for a, b in zip(times, later, strict=True)]
        assert all(abs(c - round(c)) < 1e-6 for c in cycles)
    # 290 devices over 60 s: no second of the minute carries more than about twice its share (290 / 60 ~ 5)
    per_second = Counter(int(next_phase_time(h, 60, now) % 60) for h in hosts)
    assert len(per_second) > 50 and max(per_second.values()) <= 12, per_second


def _slow_setup(lab):
    """The lab's inventory, its v2c devices and the router (whose community the slow device answers to)."""
    lab_inv = inventory.load(lab.inventory_path)
    healthy = [d for d in lab_inv.devices if d.snmp_profile not in (None, "lab-v3")]
    router = next(d for d in healthy if d.role == "router")
    return lab_inv, healthy, router


def test_stopping_lets_the_polls_in_flight_finish_and_be_stored(lab, tmp_path, caplog):
    lab_inv, healthy, router = _slow_setup(lab)

    async def go():
        slow = await DelayRelay.start(("127.0.0.1", lab.agent_port), delay=0.7)
        site = lab_inv.sites[0].name
        devices = [*healthy, Device("slow-sw", "127.0.0.1", site, "switch", "slow", port=slow.port, timeout=5.0)]
        store = Store(tmp_path / "n.db")
        store.import_inventory(Inventory(sites=[Site(s.name, s.kind) for s in lab_inv.sites], devices=devices))
        secrets = Secrets(
            snmp={
                **{d.snmp_profile: SnmpV2cCredentials(d.snmp_profile, d.hostname) for d in healthy},
                "slow": SnmpV2cCredentials("slow", router.hostname),
            }
        )
        cfg = Config(db=tmp_path / "n.db", interval=60, concurrency=8, snmp=SnmpSettings(timeout=1.0, retries=1))
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0)
        scheduler.start(store.devices())
        reader = Store(tmp_path / "n.db", readonly=True)
        try:
            up = lambda: {d["hostname"]: d["up"] for d in reader.device_states()}  # noqa: E731
            assert await _wait_for(lambda: all(up()[d.hostname] == 1 for d in healthy), 10)
            assert up()["slow-sw"] is None  # still waiting for its late answers: SIGTERM now
            t0 = time.monotonic()
            await scheduler.stop(grace=30)
            took = time.monotonic() - t0
            print(f"slow-sw finished {took:.1f} s after the stop began")
            return up(), took, scheduler.scheduler.running
        finally:
            reader.close()
            poller.close()
            slow.close()

    with caplog.at_level(logging.INFO):
        states, took, still_running = asyncio.run(go())
    assert states["slow-sw"] == 1, states  # finished in the grace period, and stored before the writer stopped
    assert took < 30 and not still_running
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not [r for r in caplog.records if r.name == "netmon.scheduler" and r.levelno >= logging.WARNING]
    assert "failed" not in caplog.text and "cannot schedule new futures" not in caplog.text
    assert "waiting up to 30 s for 1 polls in flight" in caplog.text


def test_a_poll_longer_than_the_grace_period_is_cancelled_cleanly(lab, tmp_path, caplog):
    lab_inv, _healthy, router = _slow_setup(lab)

    async def go():
        slow = await DelayRelay.start(("127.0.0.1", lab.agent_port), delay=5.0)
        site = lab_inv.sites[0].name
        devices = [Device("slow-sw", "127.0.0.1", site, "switch", "slow", port=slow.port, timeout=8.0)]
        store = Store(tmp_path / "n.db")
        store.import_inventory(Inventory(sites=[Site(s.name, s.kind) for s in lab_inv.sites], devices=devices))
        secrets = Secrets(snmp={"slow": SnmpV2cCredentials("slow", router.hostname)})
        cfg = Config(db=tmp_path / "n.db", interval=60, snmp=SnmpSettings(timeout=1.0, retries=0))
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0)
        scheduler.start(store.devices())
        try:
            await asyncio.sleep(1.0)
            t0 = time.monotonic()
            await scheduler.stop(grace=0.5)
            return time.monotonic() - t0, store
        finally:
            poller.close()
            slow.close()

    with caplog.at_level(logging.INFO):
        took, store = asyncio.run(go())
    assert took < 2.5, took
    assert "slow-sw: poll interrupted by shutdown" in caplog.text
    assert "1 polls cancelled after the 0.5 s grace period" in caplog.text
    assert "failed" not in caplog.text and "Traceback" not in caplog.text
    store.close()
