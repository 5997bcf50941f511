"""The collector contract: every listed collector declares itself, returns what it says, and the poller iterates the
list (a collector added to it runs, on its schedule, without the poller knowing it)."""

from __future__ import annotations

import asyncio
import dataclasses

import inventory
from collectors import optics
from collectors.base import SCHEDULES, Context, SnmpCollector
from collectors.observations import OpticReading, Optics
from collectors.registry import COLLECTORS, schedule_of
from inventory.model import Inventory
from netmon import secrets as netmon_secrets
from netmon.config import Config, SnmpSettings
from netmon.poller import CLI, POLL, Poller
from netmon.store import Store


def test_every_collector_declares_itself():
    names = [c.name for c in COLLECTORS]
    # wlc is one collector name over two transports: the SNMP profiles and the SSH controller CLI
    assert sorted(names) == sorted(["system", "interfaces", "wlc", "wlc", "optics", "hardware", "lldp", "cdp", "cli"])
    for c in COLLECTORS:
        assert c.schedule in SCHEDULES, c
        assert c.needs in ("snmp", "ssh"), c
        assert isinstance(c.returns, type), c
    assert [c.name for c in COLLECTORS if c.gate] == ["system"]
    assert schedule_of("cli.optics") == "cli" and schedule_of("lldp") == "topology" and schedule_of("x") == "poll"


def _lab(lab, tmp_path, **config):
    inv = inventory.load(lab.inventory_path)
    store = Store(tmp_path / "n.db")
    store.import_inventory(Inventory(sites=inv.sites, devices=inv.devices))
    secrets = netmon_secrets.load(lab.secrets_path)
    cfg = Config(db=tmp_path / "n.db", interval=60, snmp=SnmpSettings(timeout=1.0, retries=1), **config)
    return store, secrets, cfg


def test_each_collector_returns_what_it_declares(lab, tmp_path):
    """The shared harness: every collector that can handle a lab device gives its declared observation type."""
    store, secrets, cfg = _lab(lab, tmp_path)
    seen: dict[str, set[type]] = {}

    def spy(collector):
        async def read(session, context):
            value = await collector.collect(session, context)
            assert isinstance(value, collector.returns), (collector.name, type(value))
            seen.setdefault(collector.name, set()).add(type(value))
            return value

        return dataclasses.replace(collector, read=read)

    async def go():
        poller = Poller(cfg, secrets, collectors=[spy(c) for c in COLLECTORS])
        try:
            for device in store.devices():
                for job in poller.jobs(device):
                    result = await poller.poll(device, job)
                    assert not [e for e in result.errors if e.reason == "internal"], result.errors
        finally:
            poller.close()

    asyncio.run(go())
    assert set(seen) == {"system", "interfaces", "wlc", "optics", "hardware", "lldp", "cdp", "cli"}


def test_a_collector_added_to_the_list_runs_on_its_schedule(lab, tmp_path):
    store, secrets, cfg = _lab(lab, tmp_path, optics_interval=3600)
    calls = []

    async def read(session, context: Context) -> Optics:
        calls.append(context.object_id)  # told what the system collector said earlier in this poll
        return Optics([OpticReading("Te1/1/1", None, 0, "rx_power", -3.0, {}, "extra")])

    extra = SnmpCollector("extra-dom", "optics", Optics, read)
    listed = [c for c in COLLECTORS if c is not optics.COLLECTOR] + [extra]
    device = next(d for d in store.devices() if d.role == "switch" and d.snmp_profile != "lab-v3")

    async def go():
        poller = Poller(cfg, secrets, collectors=listed)
        try:
            first = await poller.poll(device)
            again = await poller.poll(device)  # within the hour: optics are not due
            cli = await poller.poll(device, CLI) if CLI in poller.jobs(device) else None
            return first, again, cli
        finally:
            poller.close()

    first, again, cli = asyncio.run(go())
    assert [r.collector for r in first.runs][:2] == ["system", "interfaces"] and "extra-dom" in {
        r.collector for r in first.runs
    }
    assert first.optics == [OpticReading("Te1/1/1", None, 0, "rx_power", -3.0, {}, "extra")]
    assert calls == [first.system.object_id] and calls[0].startswith("1.3.6.1.4.1.9.")
    assert "extra-dom" not in {r.collector for r in again.runs} and again.optics is None
    assert cli is None or "extra-dom" not in {r.collector for r in cli.runs}
    assert POLL in Poller(cfg, secrets).jobs(device)


def test_the_poll_job_has_a_deadline_and_the_ssh_collection_its_own_limits(tmp_path):
    """A poll must end before the device's next turn; the SSH collection (an addition, bounded by netmiko's own
    limits) is not cut at 90 % of cli_interval. Drop counts are the SNMP engine's: only an SNMP poll takes them."""
    from collectors.base import SshCollector
    from collectors.credentials import SshCredentials
    from collectors.observations import Steps
    from netmon.secrets import Secrets
    from netmon.store import DeviceRow

    async def slow(session, context) -> Steps:
        await asyncio.sleep(1.5)
        return Steps()

    def handles(device):
        return True

    collectors = [SshCollector("slow-poll", "poll", slow, handles), SshCollector("slow-cli", "cli", slow, handles)]
    cfg = Config(db=tmp_path / "n.db", interval=1, cli_interval=1)
    secrets = Secrets(ssh={"s": SshCredentials("s", "netmon", "x")})
    device = DeviceRow(1, "sw", "127.0.0.1", 161, "hall", "switch", None, "s", None, platform="cisco_ios")

    class Client:
        def take_drops(self):
            return {"malformed": 1}

        def close(self):
            pass

    async def go():
        poller = Poller(cfg, secrets, client=Client(), collectors=collectors)
        try:
            return await poller.poll(device, POLL), await poller.poll(device, CLI)
        finally:
            poller.close()

    poll, cli = asyncio.run(go())
    assert [(e.collector, e.reason, e.message) for e in poll.errors] == [
        ("slow-poll", "deadline", "SSH poll exceeded its 1 s deadline")
    ]
    assert cli.errors == [] and cli.runs == [] and cli.duration >= 1.5
    assert poll.dropped == {} and cli.dropped == {}  # no SNMP session: the engine's counts stay for an SNMP poll
