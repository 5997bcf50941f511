"""The store: WAL, migrations, events, counter totals, and no committed data lost in a crash."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from collectors.observations import CollectorRun, InterfaceSample, SystemInfo
from inventory.model import Device, Inventory, Site
from netmon.store import MIGRATIONS, Store

M32 = 2**32


def make_store(path) -> tuple[Store, object]:
    store = Store(path)
    store.import_inventory(
        Inventory(sites=[Site("hall", "city-hall")], devices=[Device("sw1", "127.0.0.1", "hall", "switch", "p")])
    )
    return store, store.devices()[0]


def iface(ifindex=1, oper=1, octets=0, bits=64, errors=0, name=None, speed=1_000_000_000):
    return InterfaceSample(
        ifindex=ifindex,
        name=name or f"Gi1/0/{ifindex}",
        descr="",
        alias="",
        type=6,
        speed_bps=speed,
        admin_status=1,
        oper_status=oper,
        in_octets=octets,
        out_octets=octets,
        in_ucast_pkts=0,
        out_ucast_pkts=0,
        in_errors=errors,
        out_errors=0,
        in_discards=0,
        out_discards=0,
        counter_bits=bits,
    )


def sysinfo(uptime):
    return SystemInfo("descr", "1.3.6.1.4.1.9.1.2494", uptime, "sw1")


OK = [CollectorRun("system", 0.01), CollectorRun("interfaces", 0.02)]


def test_wal_and_migrations(tmp_path):
    store = Store(tmp_path / "n.db")
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == len(MIGRATIONS)
    assert Store(tmp_path / "n.db").migrate() == []  # idempotent


def test_totals_survive_wrap_and_reboot(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    t = 1_000_000.0
    store.record_poll(dev, t, sysinfo(100_000), [iface(octets=M32 - 1000, bits=32)], OK)
    store.record_poll(dev, t + 60, sysinfo(106_000), [iface(octets=500, bits=32)], OK)  # wrapped: +1500
    store.record_poll(dev, t + 120, sysinfo(112_000), [iface(octets=2500, bits=32)], OK)  # +2000
    events = store.record_poll(dev, t + 180, sysinfo(3_000), [iface(octets=10, bits=32)], OK)  # rebooted: +0
    store.record_poll(dev, t + 240, sysinfo(9_000), [iface(octets=110, bits=32)], OK)  # +100
    row = store.interface_states()[0]
    assert row["total_in_octets"] == 1500 + 2000 + 100
    assert int(row["raw_in_octets"]) == 110
    assert [e["kind"] for e in events] == ["device_rebooted"]


def test_switch_between_hc_and_32bit_counters_is_no_spike(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(octets=10**12, bits=64)], OK)
    store.record_poll(dev, 60.0, sysinfo(7000), [iface(octets=100, bits=32)], OK)
    store.record_poll(dev, 120.0, sysinfo(13000), [iface(octets=300, bits=32)], OK)
    assert store.interface_states()[0]["total_in_octets"] == 200


def test_events_for_status_changes(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    assert store.record_poll(dev, 0.0, sysinfo(1000), [iface(1), iface(2)], OK) == []
    events = store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, oper=2), iface(2)], OK)
    assert [(e["kind"], e["ifname"], e["old"], e["new"]) for e in events] == [
        ("interface_oper_change", "Gi1/0/1", "up", "down")
    ]
    down = store.record_poll(dev, 120.0, None, None, [CollectorRun("system", 2.0, "timeout")])
    assert [(e["kind"], e["old"], e["new"], e["message"]) for e in down] == [
        ("device_down", "up", "down", "unreachable: timeout")
    ]
    # A down device keeps its last interface state; nothing is invented for it.
    assert len(store.interface_states()) == 2
    up = store.record_poll(dev, 180.0, sysinfo(19000), [iface(1, oper=2)], OK)
    assert [e["kind"] for e in up] == ["device_up"]
    assert store.collector_error_counts() == [{"collector": "system", "reason": "timeout", "count": 1}]
    status = {c["collector"]: c for c in store.collector_states()}
    assert status["system"]["last_success"] == pytest.approx(180.01)
    assert status["system"]["last_error_reason"] is None


def test_interface_removed_only_after_three_absent_polls(tmp_path):
    """An empty or cut-short walk (an agent still booting) must not erase interfaces and their totals."""
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1, octets=0), iface(2, octets=0)], OK)
    store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, octets=100), iface(2, octets=500)], OK)
    assert store.record_poll(dev, 120.0, sysinfo(13000), [], OK) == []
    assert store.interface_states() == []  # not exported while missing...
    assert len(store.interface_states(present_only=False)) == 2  # ...but kept, totals and all
    store.record_poll(dev, 180.0, sysinfo(19000), [iface(1, octets=200)], OK)
    assert {r["ifindex"]: r["total_in_octets"] for r in store.interface_states()} == {1: 200}
    events = store.record_poll(dev, 240.0, sysinfo(25000), [iface(1, octets=300)], OK)
    assert [(e["kind"], e["ifname"]) for e in events] == [("interface_removed", "Gi1/0/2")]
    assert [r["ifindex"] for r in store.interface_states(present_only=False)] == [1]


def test_counter64_beyond_signed_64_bits(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    top = 2**64 - 1  # some agents answer this for counters they do not keep
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1, octets=top)], OK)
    store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, octets=top)], OK)
    row = store.interface_states()[0]
    assert int(row["raw_in_octets"]) == top and row["total_in_octets"] == 0


def test_an_older_poll_finishing_late_changes_nothing(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1, octets=100)], OK)
    store.record_poll(dev, 120.0, sysinfo(13000), [iface(1, octets=300)], OK)
    before = (store.device_states(), store.interface_states())
    assert store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, octets=200, oper=2)], OK) == []
    assert (store.device_states(), store.interface_states()) == before


def test_record_failure_makes_state_unknown(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1)], OK)
    store.record_failure(dev, 60.0)
    state = store.device_states()[0]
    assert state["up"] is None and state["last_error_reason"] == "store"
    assert {"collector": "poll", "reason": "store", "count": 1} in store.collector_error_counts()


def test_failed_write_rolls_back(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(octets=100)], OK)
    before = store.interface_states()
    bad = dataclasses.replace(iface(octets=200), in_octets="not a number")  # blows up mid-transaction
    with pytest.raises(TypeError):
        store.record_poll(dev, 60.0, sysinfo(7000), [iface(2), bad], OK)
    assert store.interface_states() == before
    assert store.device_states()[0]["last_poll"] == 0.0


def test_crash_mid_write_loses_no_committed_data(tmp_path):
    """A process killed inside a write transaction: the committed state is intact, WAL recovered."""
    db = tmp_path / "n.db"
    store, dev = make_store(db)
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1, octets=100), iface(2, octets=5)], OK)
    before = (store.device_states(), store.interface_states())
    store.close()
    child = textwrap.dedent(
        f"""
        import os
        from netmon.store import Store
        from tests.test_store import iface, sysinfo, OK
        store = Store({str(db)!r})
        dev = store.devices()[0]
        real = store._record_interfaces
        def crash(conn, *args):
            real(conn, *args)  # rows written inside the open transaction...
            os._exit(9)        # ...and the process dies before COMMIT
        store._record_interfaces = crash
        store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, octets=999, oper=2)], OK)
        """
    )
    r = subprocess.run([sys.executable, "-c", child], cwd=str(_project_root()), timeout=60)
    assert r.returncode == 9
    after = Store(db)
    assert (after.device_states(), after.interface_states()) == before
    assert after.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_readonly_reader_while_writer_holds_transaction(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1)], OK)
    reader = Store(tmp_path / "n.db", readonly=True)
    store.conn.execute("BEGIN IMMEDIATE")
    store.conn.execute("UPDATE device_state SET up = 0")
    assert reader.device_states()[0]["up"] == 1  # WAL: readers see the last commit, never block
    store.conn.execute("ROLLBACK")
    with pytest.raises(sqlite3.OperationalError):
        reader.conn.execute("DELETE FROM events")


def _project_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def test_uptime_read_late_is_not_a_reboot(tmp_path):
    """The first poll's sysUpTime was answered 11 s after the poll began (retries): compare against that moment."""
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(101_100), [iface(1, octets=0)], OK, read_at=11.0)
    events = store.record_poll(dev, 60.0, sysinfo(106_000), [iface(1, octets=1000)], OK, read_at=60.0)
    assert events == []
    assert store.interface_states()[0]["total_in_octets"] == 1000
    # Timed from the start of each poll instead, the same answers look like a reboot.
    store2, dev2 = make_store(tmp_path / "m.db")
    store2.record_poll(dev2, 0.0, sysinfo(101_100), [iface(1, octets=0)], OK)
    assert [e["kind"] for e in store2.record_poll(dev2, 60.0, sysinfo(106_000), [iface(1)], OK)] == ["device_rebooted"]


def test_a_clock_stepped_back_does_not_silence_the_device(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 10_000.0, sysinfo(100_000), [iface(1)], OK)
    down = store.record_poll(dev, 10_000.0 - 3600, None, None, [CollectorRun("system", 2.0, "timeout")])
    assert [e["kind"] for e in down] == ["device_down"]
    assert store.device_states()[0]["up"] == 0


def test_neighbours_match_inventory_devices_by_chassis_id_name_or_address(tmp_path):
    from collectors.observations import Neighbor

    store = Store(tmp_path / "n.db")
    store.import_inventory(
        Inventory(
            sites=[Site("hall", "city-hall"), Site("library", "library")],
            devices=[
                Device("sw1", "127.0.0.11", "hall", "switch", "p"),
                Device("sw2", "127.0.0.12", "library", "switch", "p"),
                Device("sw3", "127.0.0.13", "library", "switch", "p"),
            ],
        )
    )
    sw1, sw2, _sw3 = store.devices()
    store.record_poll(sw2, 0.0, sysinfo(100), [iface(1, name="Te1/1/1")], OK, chassis_id="00:1A:2B:00:00:02")
    seen = [
        Neighbor("lldp", "Te1/1/1", "renamed-but-same-box", "Te1/1/1", remote_chassis_id="00:1a:2b:00:00:02"),
        Neighbor("cdp", "TenGigabitEthernet1/1/2", "sw3.city.example", "Gi0/1"),
        Neighbor("lldp", "Te1/1/3", "", "eth0", remote_address="127.0.0.13"),
        Neighbor("lldp", "Te1/1/4", "stranger", "eth0", remote_address="127.9.9.9"),
    ]
    ifs = [iface(1, name="Te1/1/1"), iface(2, name="Te1/1/2"), iface(3, name="Te1/1/3"), iface(4, name="Te1/1/4")]
    store.record_poll(sw1, 0.0, sysinfo(100), ifs, OK, neighbors=seen)
    links = {(x["a_port"], x["b_device"]) for x in store.links() if x["a_device"] == "sw1"}
    assert links == {("Te1/1/1", "sw2"), ("Te1/1/2", "sw3"), ("Te1/1/3", "sw3"), ("Te1/1/4", None)}
