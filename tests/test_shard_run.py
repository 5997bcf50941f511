"""`netmon run --shard K/N` against the lab, in process: it polls its half only, after an inventory change too,
and its /metrics speak only of the devices it polls."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.prometheus import exposition
from netmon import app, cli
from netmon import config as config_mod
from netmon import secrets as secrets_mod
from netmon.shard import Shard, parse_shard, shard_of


def _lab_config(lab, tmp_path, **changes) -> config_mod.Config:
    cfg = config_mod.load(lab.config_path, environ={})
    return dataclasses.replace(cfg, db=tmp_path / "n.db", listen="127.0.0.1:0", radius=None, **changes)


def test_shard_0_of_2_polls_only_its_half_of_the_lab(lab, tmp_path):
    shard = parse_shard("0/2")
    cfg = _lab_config(lab, tmp_path, interval=60, shard=shard)
    secrets = secrets_mod.load(cfg.secrets)
    store, devices = app.open_store(cfg, secrets)
    everyone = {d.hostname for d in lab.devices}
    mine = {h for h in everyone if shard_of(h, 2) == 0}
    assert mine and mine != everyone, "the lab should have devices in both shards"
    assert {d.hostname for d in devices} == mine
    assert {d.hostname for d in store.devices()} == everyone  # the whole inventory is in the shard's database

    async def go():
        async with app.running(cfg, secrets, store, devices, spread=2.0) as started:
            for _ in range(200):  # first polls within 2 s
                if all(s["up"] is not None for s in store.device_states() if s["hostname"] in mine):
                    break
                await asyncio.sleep(0.1)
            # An inventory change re-syncs from the store's whole device list: still this shard's devices only.
            started.scheduler.generation = -2
            await started.scheduler._check_inventory()
            assert set(started.scheduler.devices) == mine
            assert {j.id.split(":", 1)[1] for j in started.scheduler.scheduler.get_jobs() if ":" in j.id} == mine

    try:
        asyncio.run(go())
        states = {s["hostname"]: s["up"] for s in store.device_states()}
    finally:
        store.close()
    assert {h: up for h, up in states.items() if h in mine} == dict.fromkeys(mine, 1)
    assert {h: up for h, up in states.items() if h not in mine} == dict.fromkeys(everyone - mine)  # never polled

    text = exposition(cfg.db, process_metrics=False, config=cfg)
    named = {
        (family.name, sample.labels["device"])
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "device" in sample.labels
    }
    assert {device for _, device in named} == mine  # no series about the other shard's devices
    assert {d for name, d in named if name == "netmon_device_up"} == mine


def test_an_empty_shard_is_refused(lab, tmp_path):
    hostnames = [d.hostname for d in lab.devices]
    count = next(n for n in range(2, 1025) if len({shard_of(h, n) for h in hostnames}) < n)
    empty = next(k for k in range(count) if k not in {shard_of(h, count) for h in hostnames})
    cfg = _lab_config(lab, tmp_path, shard=Shard(empty, count))
    with pytest.raises(config_mod.ConfigError, match=f"shard {empty}/{count} holds none of the {len(hostnames)}"):
        app.open_store(cfg, secrets_mod.load(cfg.secrets))


# In process: a `netmon` subprocess would be the venv's, an editable install of another checkout.
@pytest.mark.parametrize(("bad", "why"), [("2/2", "shard: 2/2: the shard must be in 0..1"), ("x", "shard: 'x' is not")])
def test_netmon_run_refuses_a_bad_shard_flag(lab, tmp_path, capsys, bad, why):
    db = tmp_path / "n.db"
    assert cli.main(["--config", str(lab.config_path), "--db", str(db), "run", "--shard", bad]) == 2
    assert why in capsys.readouterr().err
    assert not db.exists()


def test_netmon_run_shard_1_of_2_refuses_the_lab_radius_listener(lab, tmp_path, capsys):
    db = tmp_path / "n.db"
    assert cli.main(["--config", str(lab.config_path), "--db", str(db), "run", "--shard", "1/2"]) == 2
    assert "radius: only shard 0/2 runs the accounting listener (this is shard 1/2)" in capsys.readouterr().err
    assert not db.exists()


def test_netmon_run_shard_0_of_2_says_how_many_it_polls(lab, tmp_path, capsys):
    mine = [d for d in lab.devices if shard_of(d.hostname, 2) == 0]
    args = ["--config", str(lab.config_path), "--db", str(tmp_path / "n.db"), "run", "--shard", "0/2"]
    assert cli.main([*args, "--listen", "127.0.0.1:0", "--duration", "1"]) == 0
    assert f"{len(mine)} devices (shard 0/2), every 2 s" in capsys.readouterr().err
