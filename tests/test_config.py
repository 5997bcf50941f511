"""The configuration loader refuses what cannot be a setting with `FILE: setting: why`, never another exception."""

from __future__ import annotations

import pytest

from netmon import config as config_mod
from netmon.shard import Shard


@pytest.mark.parametrize(
    "text, why",
    [
        ("1: a\nfoo: b\n", "unknown settings ['1', 'foo']"),  # keys of mixed types cannot be sorted as they are
        ("interval: .inf\n", "interval: inf is not a whole number"),
        ("wifi_grace: .nan\n", "wifi_grace: nan is not a whole number"),
        ("retention_days: [3]\n", "retention_days: [3] is not a whole number"),
        ("interval: 99999999999999999999\n", "interval: 99999999999999999999 is outside 0..2147483647"),
        ("usage_interval: true\n", "usage_interval: True is not a whole number"),
        ("snmp: {timeout: soon}\n", "snmp.timeout: 'soon' is not a number"),
        ("snmp: {timeout: .nan}\n", "snmp.timeout: nan is outside 0.1..60"),
        ("snmp: {retries: -1}\n", "snmp.retries: -1 is outside 0..10"),
        ("snmp: {max_repetitions: 100000}\n", "snmp.max_repetitions: 100000 is outside 1..1000"),
        ("radius: {interim_interval: .inf}\n", "radius.interim_interval: inf is not a whole number"),
        ("radius: {top_realms: many}\n", "radius.top_realms: 'many' is not a whole number"),
        ("timezone: America\n", "unknown time zone 'America' (an IANA name such as America/Toronto)"),  # a folder
        ("radius: {timeout_check: 0}\n", "radius.timeout_check: 0 is outside 1..2147483647"),
        ("shard: 2/2\n", "shard: 2/2: the shard must be in 0..1 (K < N)"),
        ("shard: 0/0\n", "shard: 0/0: the number of shards must be in 1..1024"),
        ("shard: 0/1025\n", "shard: 0/1025: the number of shards must be in 1..1024"),
        ("shard: 1\n", "shard: 1 is not of the form K/N (e.g. 0/4)"),
        ("shard: half\n", "shard: 'half' is not of the form K/N (e.g. 0/4)"),
        ("shard: -1/4\n", "shard: '-1/4' is not of the form K/N (e.g. 0/4)"),
    ],
)
def test_settings_that_cannot_be_are_refused_naming_the_file_and_setting(tmp_path, text, why):
    path = tmp_path / "netmon.yml"
    path.write_text(text)
    with pytest.raises(config_mod.ConfigError) as err:
        config_mod.load(path, environ={})
    assert str(err.value) == f"{path}: {why}"


def test_sane_settings_load_as_numbers(tmp_path):
    path = tmp_path / "netmon.yml"
    path.write_text("interval: '60'\nsnmp: {timeout: 1, retries: 0, max_repetitions: 50}\nradius: {top_realms: 0}\n")
    cfg = config_mod.load(path, environ={})
    assert (cfg.interval, cfg.snmp.timeout, cfg.snmp.retries, cfg.snmp.max_repetitions) == (60, 1.0, 0, 50)
    assert cfg.radius.top_realms == 0


def test_a_shard_from_the_file_or_the_flag(tmp_path):
    path = tmp_path / "netmon.yml"
    path.write_text("shard: 1/4\n")
    assert config_mod.load(path, environ={}).shard == Shard(1, 4)
    assert config_mod.load(path, environ={}, shard="3/8").shard == Shard(3, 8)  # --shard wins
    assert config_mod.load(None, environ={}).shard is None
    with pytest.raises(config_mod.ConfigError, match=r"^configuration: shard: 4/4: the shard must be in 0\.\.3"):
        config_mod.load(None, environ={}, shard="4/4")


def test_only_shard_0_runs_the_accounting_listener(tmp_path):
    path = tmp_path / "netmon.yml"
    path.write_text("shard: 0/2\nradius: {}\n")
    assert config_mod.load(path, environ={}).radius is not None
    path.write_text("shard: 1/2\nradius: {}\n")
    with pytest.raises(config_mod.ConfigError) as err:
        config_mod.load(path, environ={})
    assert str(err.value) == (
        f"{path}: radius: only shard 0/2 runs the accounting listener (this is shard 1/2): "
        "move 'radius:' to shard 0's configuration"
    )
