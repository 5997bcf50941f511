"""The scheduler: a dead or slow device never delays the others."""

from __future__ import annotations

import asyncio
import time

import inventory
from collectors.snmp.credentials import SnmpV2cCredentials
from inventory.model import Device, Inventory, Site
from netmon.config import Config, SnmpSettings
from netmon.poller import Poller
from netmon.scheduler import Scheduler, first_run_offset
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
    healthy = [d for d in lab_inv.devices if d.snmp_profile != "lab-v3"]
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
