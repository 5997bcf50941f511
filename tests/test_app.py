"""netmon run's wiring (netmon.app), in process against the lab, and what it refuses before it starts."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import yaml

from netmon import app
from netmon import config as config_mod
from netmon import secrets as secrets_mod
from tests.conftest import run_netmon


def _lab_config(lab, tmp_path, **changes) -> config_mod.Config:
    cfg = config_mod.load(lab.config_path, environ={})
    return dataclasses.replace(cfg, db=tmp_path / "n.db", listen="127.0.0.1:0", radius=None, **changes)


def test_running_polls_the_lab_in_process(lab, tmp_path):
    cfg = _lab_config(lab, tmp_path, interval=60)
    secrets = secrets_mod.load(cfg.secrets)
    store, devices = app.open_store(cfg, secrets)

    async def go():
        async with app.running(cfg, secrets, store, devices, spread=2.0) as started:
            assert started.listeners == [] and {d.hostname for d in started.devices} == {d.hostname for d in devices}
            for _ in range(200):  # first polls within 2 s
                if all(s["up"] is not None for s in store.device_states()):
                    break
                await asyncio.sleep(0.1)

    try:
        asyncio.run(go())
        states = {s["hostname"]: s["up"] for s in store.device_states()}
        assert states == {d.hostname: 1 for d in lab.devices}
    finally:
        store.close()


def test_an_ap_site_rule_naming_no_site_is_refused_at_start(lab, tmp_path):
    cfg = _lab_config(lab, tmp_path, ap_site_rules=({"prefix": "ap-", "site": "atlantis"},))
    with pytest.raises(config_mod.ConfigError, match="ap_site_rules: no site 'atlantis' in the inventory"):
        app.open_store(cfg, secrets_mod.load(cfg.secrets))


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"prefix": "ap-"}, "needs a site"),
        ({"prefix": "ap-", "name": "x", "site": "city-hall"}, "needs exactly one of name, prefix, location (has 2)"),
        ({"prefx": "ap-", "site": "city-hall"}, "unknown keys ['prefx']"),
        ("ap-*", "must be a mapping"),
    ],
)
def test_a_bad_ap_site_rule_is_refused_when_the_configuration_loads(lab, tmp_path, rule, problem):
    doc = yaml.safe_load(lab.config_path.read_text())
    doc.update(db=str(tmp_path / "n.db"), secrets=str(lab.secrets_path), inventory=str(lab.inventory_path))
    doc["ap_site_rules"] = [{"prefix": "ap-city-hall-", "site": "city-hall"}, rule]
    path = tmp_path / "netmon.yml"
    path.write_text(yaml.safe_dump(doc))
    for command in (["run", "--duration", "1"], ["poll", "--all"]):
        r = run_netmon("--config", str(path), *command)
        assert r.returncode == 2, r.stderr
        assert f"{path}: ap_site_rules entry 2: {problem}" in r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "n.db").exists()  # refused before anything was written


def test_rules_as_yaml_reads_them_load_and_poll_checks_their_sites_like_run(lab, tmp_path):
    doc = yaml.safe_load(lab.config_path.read_text())
    doc.update(db=str(tmp_path / "n.db"), secrets=str(lab.secrets_path), inventory=str(lab.inventory_path))
    doc["ap_site_rules"] = [{"name": 1234, "site": "city-hall"}]  # an AP named 1234: YAML reads a number
    path = tmp_path / "netmon.yml"
    path.write_text(yaml.safe_dump(doc))
    assert config_mod.load(path, environ={}).ap_site_rules == ({"name": "1234", "site": "city-hall"},)
    doc["ap_site_rules"] = [{"prefix": "ap-", "site": "atlantis"}]
    path.write_text(yaml.safe_dump(doc))
    assert run_netmon("--config", str(path), "inventory", "import", str(lab.inventory_path)).returncode == 0
    r = run_netmon("--config", str(path), "poll", "--all")
    assert r.returncode == 2 and f"{path}: ap_site_rules: no site 'atlantis' in the inventory" in r.stderr, r.stderr
