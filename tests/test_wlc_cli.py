"""Wireless controllers over SSH: AireOS and Catalyst 9800 CLI parsing, the fake controllers, the scheduler path.

The fake controllers are real SSH servers on 127.0.0.1 (netmon/lab/ssh_device.py)
whose outputs are rendered from the same ControllerModel the SNMP agent
(netmon/lab/wlc_agent.py) serves, so one simulated controller is read both ways.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from collectors import cli_parsers
from collectors.cli import CliTimeouts
from collectors.credentials import SshCredentials
from collectors.wlc import cli as wlc_cli
from inventory.model import Device, Inventory, Site
from netmon import lab as lab_mod
from netmon.config import Config
from netmon.lab import wlc_cli as wlc_cli_sim
from netmon.lab.ssh_device import GARBAGE, FakeDevice, silent_port
from netmon.lab.wlc_agent import ControllerAgent, ControllerModel
from netmon.poller import Poller
from netmon.privacy import Pseudonymizer
from netmon.scheduler import Scheduler, poll_all
from netmon.secrets import Secrets
from netmon.store import DeviceRow, Store

USER, PASSWORD = "netmon", "fake-wlc-password-7"
CREDS = SshCredentials("wlc-ssh", USER, PASSWORD)
P = Pseudonymizer(b"test-pseudonym-key-0123456789")
SITES = ["city-hall", "library", "arena"]


def _model(hostname: str = "wlc-city") -> ControllerModel:
    # A slot of an hour: the population does not change between the SNMP and the SSH read.
    return ControllerModel(hostname, SITES, aps_per_site=12, people=400, slot=3600.0)


# -- parsing: what the sim renders, the parser reads back ---------------------------------------

_word = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10)
_mac = st.lists(st.integers(0, 255), min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
_radio_24 = st.builds(
    wlc_cli_sim.SimRadio,
    slot=st.just(0),
    kind=st.just(1),
    channel=st.integers(1, 13),
    level=st.integers(1, 8),
    up=st.booleans(),
    levels=st.sampled_from([(), (20, 17, 14, 11, 8, 5), (23, 20, 17, 14, 11, 8, 5, 2)]),
)
_radio_5 = st.builds(
    wlc_cli_sim.SimRadio,
    slot=st.sampled_from([1, 2]),
    kind=st.just(2),
    channel=st.sampled_from([36, 44, 52, 60, 100, 108, 116, 132, 149, 157]),
    level=st.integers(1, 8),
    up=st.booleans(),
    levels=st.sampled_from([(), (23, 20, 17, 14, 11, 8, 5)]),
)
# every AP has a radio in at least one band (the join needs one)
_radios = (
    st.tuples(st.none() | _radio_24, st.none() | _radio_5)
    .map(lambda r: tuple(x for x in r if x is not None))
    .filter(bool)
)
_ap = st.builds(
    wlc_cli_sim.SimAp,
    mac=_mac,
    name=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=30),
    location=st.builds(
        lambda words, floor: " ".join(words) + (f", floor {floor}" if floor is not None else ""),
        st.lists(_word, min_size=1, max_size=3),
        st.none() | st.integers(0, 40),
    ),
    model=st.sampled_from(["AIR-AP3802I-E-K9", "C9120AXI-E", "AIR-CAP2702E-E-K9", "C9130AXE-B"]),
    serial=st.just(""),
    ip=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)).map(
        lambda t: f"127.{t[0]}.{t[1]}.{t[2]}"
    ),
    up=st.booleans(),
    clients=st.integers(0, 500),
    radios=_radios,
)
_snapshot = st.builds(
    wlc_cli_sim.Snapshot,
    object_id=st.just("1.3.6.1.4.1.9.1.1279"),
    model=st.sampled_from(["AIR-CT5520-K9", "AIR-CT3504-K9"]),
    aps=st.lists(_ap, max_size=25, unique_by=(lambda a: a.mac, lambda a: a.name)),  # a controller's names are unique
    wlans=st.dictionaries(
        st.integers(1, 512),
        st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=32),
        max_size=8,
    ),
    clients=st.integers(0, 100_000),
    uptime_seconds=st.integers(0, 3 * 365 * 86400),
)


def _expected_aps(snap):
    return sorted((a.mac, a.name, a.model, a.ip, a.location, "up") for a in snap.aps if a.up)


def _got_aps(result):
    return sorted((a.mac, a.name, a.model, a.ip, a.location, a.status) for a in result.wlc.aps)


def _power(radio):
    if 1 <= radio.level <= len(radio.levels):
        return float(radio.levels[radio.level - 1]), "dBm"
    return float(radio.level), "level"


def _expected_radios(snap):
    """What SNMP's profile makes of the same bsnAPIfTable rows, less the per-radio clients and utilisation."""
    return sorted(
        (a.mac, r.slot, {1: "2.4GHz", 2: "5GHz"}[r.kind], r.channel, *_power(r), "up" if r.up else "down")
        for a in snap.aps
        if a.up and a.radios
        for r in a.radios
    )


def _got_radios(radios):
    return sorted((r.ap_mac, r.slot, r.band, r.channel, r.tx_power, r.tx_power_unit, r.status) for r in radios)


def _aireos(snap, **replace):
    outputs = wlc_cli_sim.aireos_outputs(snap, "wlc-x")
    kinds = dict((command, kind) for kind, command in wlc_cli.COMMANDS["cisco_wlc_ssh"])
    return {**{kinds[c]: text for c, text in outputs.items()}, **replace}


@settings(max_examples=25, deadline=None)
@given(_snapshot)
def test_aireos_outputs_parse_back_to_what_the_controller_holds(snap):
    outputs = wlc_cli_sim.aireos_outputs(snap, "wlc-x")
    kinds = dict((command, kind) for kind, command in wlc_cli.COMMANDS["cisco_wlc_ssh"])
    result = wlc_cli.assemble("cisco_wlc_ssh", {kinds[c]: text for c, text in outputs.items()})
    assert result.errors == []
    assert result.wlc.profile == "aireos" and result.wlc.controller_model == snap.model
    # keyed by the base radio MAC of the radio lists, joined on the AP name, not the summary's Ethernet MAC
    assert result.ap_key == "radio"
    assert _got_aps(result) == _expected_aps(snap)
    assert _got_radios(result.wlc.radios) == _expected_radios(snap)
    assert result.ap_clients == {a.mac: a.clients for a in snap.aps if a.up}
    assert [(w.wlan_id, w.ssid, w.clients) for w in result.wlc.wlans] == [
        (i, s, None) for i, s in sorted(snap.wlans.items())
    ]
    assert result.wlc.reported_ap_count == len([a for a in snap.aps if a.up])
    assert result.wlc.reported_client_count == snap.clients
    assert result.system.uptime_ticks == snap.uptime_seconds * 100 % 2**32
    assert result.system.name == "wlc-x" and result.system.object_id == snap.object_id


BUILDING_A_1 = wlc_cli_sim.Snapshot(
    "1.3.6.1.4.1.9.1.2391",
    "C9800-40-K9",
    [wlc_cli_sim.SimAp("00:3a:a0:00:00:01", "ap-1", "Building A 1", "C9120AXI-E", "", "127.0.0.9", True, 0)],
    {1: "CityWiFi"},
    0,
    60,
)


@settings(max_examples=25, deadline=None)
@given(_snapshot)
@example(BUILDING_A_1)  # ntc-templates' 9800 template reads "A 1" as address and state: netmon's own does not
def test_c9800_outputs_parse_back_keyed_by_the_radio_mac(snap):
    outputs = wlc_cli_sim.c9800_outputs(snap, "wlc-x")
    kinds = dict((command, kind) for kind, command in wlc_cli.COMMANDS["cisco_ios"])
    result = wlc_cli.assemble("cisco_xe", {kinds[c]: text for c, text in outputs.items()})
    assert result.errors == []
    assert result.wlc.profile == "c9800" and result.wlc.controller_model == wlc_cli_sim.C9800_MODEL
    assert _got_aps(result) == _expected_aps(snap)  # the Radio MAC, not the Ethernet MAC beside it
    assert result.ap_clients == {}  # the 9800's summary has no client column
    assert [(w.wlan_id, w.ssid) for w in result.wlc.wlans] == sorted(snap.wlans.items())
    assert result.system.name == "wlc-x" and result.system.uptime_ticks is None  # minutes: too coarse


@given(st.integers(0, 10 * 365 * 86400))
def test_aireos_uptime_phrase(seconds):
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    assert cli_parsers.uptime_seconds(f"{d} days {h} hrs {m} mins {s} secs") == seconds


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [("cisco_wlc_ssh", k) for k in ("system", "aps", "radios_b", "radios_a", "wlans")]
        + [("cisco_xe", k) for k in ("system", "aps", "wlans")]
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
)
def test_any_output_gives_a_result_or_a_parse_error_never_an_exception(device_kind, text):
    device_type, kind = device_kind
    snap = wlc_cli_sim.Snapshot("1.3.6.1.4.1.9.1.1279", "AIR-CT5520-K9", [], {1: "CityWiFi"}, 0, 60)
    render = wlc_cli_sim.aireos_outputs if device_type == "cisco_wlc_ssh" else wlc_cli_sim.c9800_outputs
    platform = wlc_cli.PLATFORMS[device_type][0]
    kinds = {command: k for k, command in wlc_cli.COMMANDS[platform]}
    outputs = {kinds[c]: out for c, out in render(snap, "wlc-x").items()}
    result = wlc_cli.assemble(device_type, {**outputs, kind: text})
    assert all(e.reason == "parse" and e.collector == f"wlc.{kind}" for e in result.errors)
    if kind != "system":
        assert (result.wlc is None) == bool(result.errors)
    if kind.startswith("radios") and result.wlc is not None:
        # understood, or the release does not have the command: the Ethernet MAC, said so
        assert result.ap_key == ("ethernet" if wlc_cli._rejected(text) else "radio")


@given(st.integers(1, 8), st.integers(1, 8), st.integers(-10, 30), st.sampled_from(["", "*"]), st.integers(1, 233))
def test_aireos_power_and_channel_columns(level, levels, dbm, star, channel):
    assert wlc_cli.radio_power(f"{star}{level}/{levels} ({dbm} dBm)") == (float(dbm), "dBm")
    assert wlc_cli.radio_power(f"{level}({star})") == wlc_cli.radio_power(f"{star}{level}/{levels}") == (level, "level")
    assert wlc_cli.radio_power("N/A") == (None, "") and wlc_cli.radio_channel("N/A") is None
    assert wlc_cli.radio_channel(f"{channel}{star}") == wlc_cli.radio_channel(f"({channel},{channel + 4}){star}")
    assert wlc_cli.radio_channel(f"{star}{channel}") == channel


RADIO_LISTS_8_10 = """
Member RRM Information
AP Name                          MAC Address       Slot Admin    Oper        Channel            TxPower       BSS Color
-------------------------------- ----------------- ---- -------- ----------- ------------------ ------------- ----------
ap-hall-01                       00:3a:a0:00:01:10  1   ENABLED  UP          (52,56)*           *3/7 (17 dBm) N/A
ap-hall-02                       00:3a:a0:00:01:20  1   ENABLED  DOWN        100                *1/7 (23 dBm) N/A
ap-hall-03                       00:3a:a0:00:01:30  2   DISABLED DOWN        N/A                N/A           N/A
ap-hall-04                       00:3a:a0:00:01:40  0   ENABLED  UP          (36,40,44,48)*     *8/8 (-1 dBm) 12
"""
RADIO_LISTS_OLDER = """Member RRM Information
AP Name             MAC Address        Slot   Admin   Oper      Channel            TxPower
------------------  -----------------  ----   -----   -------   ----------------   ------------
ap-hall-01          00:3a:a0:00:01:10  0      ENABLED UP        11*                2(*)
ap-hall-02          00:3a:a0:00:01:20  0      ENABLED UP        *6                 1
"""


def test_aireos_radio_lists_of_8_10_and_older_releases():
    """The columns real releases print: 8.10 adds BSS Color and the dBm beside the level; older ones print the level."""
    macs = {f"00:3a:a0:00:01:{n}0" for n in range(1, 5)}
    rows = cli_parsers.parse_rows("cisco_wlc_ssh", "show advanced 802.11a summary", RADIO_LISTS_8_10)
    assert _got_radios(wlc_cli.radios_from_rows(rows, "5GHz", macs)) == [
        ("00:3a:a0:00:01:10", 1, "5GHz", 52, 17.0, "dBm", "up"),
        ("00:3a:a0:00:01:20", 1, "5GHz", 100, 23.0, "dBm", "down"),
        ("00:3a:a0:00:01:30", 2, "5GHz", None, None, "", "down"),
        ("00:3a:a0:00:01:40", 0, "5GHz", 36, -1.0, "dBm", "up"),  # a dual-band (XOR) slot 0 in 5 GHz
    ]
    rows = cli_parsers.parse_rows("cisco_wlc_ssh", "show advanced 802.11b summary", RADIO_LISTS_OLDER)
    assert _got_radios(wlc_cli.radios_from_rows(rows, "2.4GHz", macs)) == [
        ("00:3a:a0:00:01:10", 0, "2.4GHz", 11, 2.0, "level", "up"),
        ("00:3a:a0:00:01:20", 0, "2.4GHz", 6, 1.0, "level", "up"),
    ]
    assert wlc_cli.radio_macs_from_rows(rows) == {
        "ap-hall-01": {"00:3a:a0:00:01:10"},
        "ap-hall-02": {"00:3a:a0:00:01:20"},
    }


SNAP = wlc_cli_sim.Snapshot(
    "1.3.6.1.4.1.9.1.1279",
    "AIR-CT5520-K9",
    [
        wlc_cli_sim.SimAp(
            f"00:3a:a0:00:00:0{n}",
            f"ap-{n}",
            "Building A 1",
            "AIR-AP3802I-E-K9",
            "",
            f"127.0.0.{n}",
            True,
            n,
            (wlc_cli_sim.SimRadio(0, 1, 6, 1, True), wlc_cli_sim.SimRadio(1, 2, 36, 2, True)),
        )
        for n in (1, 2, 3)
    ],
    {1: "CityWiFi"},
    6,
    60,
)


def test_aireos_without_the_radio_lists_keys_by_the_ethernet_mac_and_says_so_once(caplog):
    rejected = "\nIncorrect usage. Use the '?' or <TAB> key to list commands.\n\n"
    outputs = _aireos(SNAP, radios_b=rejected, radios_a=rejected)
    with caplog.at_level(logging.WARNING, logger="collectors.wlc.cli"):
        results = []
        for _ in range(3):
            result = wlc_cli.WlcCliResult(host="127.0.0.1", port=22, device_type="cisco_wlc_ssh", name="wlc-old")
            wlc_cli.interpret("cisco_wlc_ssh", outputs, result, lambda *e, errors=result.errors: errors.append(e))
            results.append(result)
    for result in results:
        assert result.errors == [] and result.ap_key == "ethernet" and result.wlc.radios == ()
        assert [a.mac for a in result.wlc.aps] == [wlc_cli_sim._ethernet_mac(a.mac) for a in SNAP.aps]
    said = [r.getMessage() for r in caplog.records if "Ethernet MAC" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("wlc-old: ") and "show advanced 802.11b summary" in said[0]
    # the radio lists understood: the base radio MAC; one not understood: no AP list rather than other keys
    assert wlc_cli.assemble("cisco_wlc_ssh", _aireos(SNAP)).wlc.aps[0].mac == "00:3a:a0:00:00:01"
    broken = wlc_cli.assemble("cisco_wlc_ssh", _aireos(SNAP, radios_a=GARBAGE))
    assert broken.wlc is None and [(e.collector, e.reason) for e in broken.errors] == [("wlc.radios_a", "parse")]
    empty = wlc_cli.assemble("cisco_wlc_ssh", _aireos(SNAP, radios_b=""))
    assert empty.wlc is None and [e.collector for e in empty.errors] == ["wlc.radios_b"]


def test_an_ap_in_no_radio_list_keeps_its_ethernet_mac_and_is_logged_once(caplog):
    lists = wlc_cli_sim.aireos_outputs(SNAP, "wlc-x")
    without_ap_2 = {
        kind: "".join(line + "\n" for line in lists[command].splitlines() if not line.startswith("ap-2 "))
        for kind, command in wlc_cli.COMMANDS["cisco_wlc_ssh"]
        if kind.startswith("radios")
    }
    with caplog.at_level(logging.WARNING, logger="collectors.wlc.cli"):
        for _ in range(2):
            result = wlc_cli.assemble("cisco_wlc_ssh", _aireos(SNAP, **without_ap_2))
    assert result.errors == [] and result.ap_key == "radio"
    assert [a.mac for a in result.wlc.aps] == sorted(
        ["00:3a:a0:00:00:01", wlc_cli_sim._ethernet_mac("00:3a:a0:00:00:02"), "00:3a:a0:00:00:03"]
    )
    assert {r.ap_mac for r in result.wlc.radios} == {"00:3a:a0:00:00:01", "00:3a:a0:00:00:03"}
    assert len([r for r in caplog.records if "'ap-2' is in no radio list" in r.getMessage()]) == 1


def test_an_empty_controller_is_an_answer_and_garbage_is_not():
    empty = wlc_cli_sim.Snapshot("1.3.6.1.4.1.9.1.1279", "AIR-CT5520-K9", [], {}, 0, 100)
    for device_type, render in (("cisco_wlc_ssh", wlc_cli_sim.aireos_outputs), ("cisco_xe", wlc_cli_sim.c9800_outputs)):
        platform = wlc_cli.PLATFORMS[device_type][0]
        kinds = {command: kind for kind, command in wlc_cli.COMMANDS[platform]}
        outputs = {kinds[c]: text for c, text in render(empty, "wlc-x").items()}
        result = wlc_cli.assemble(device_type, outputs)
        assert result.errors == [] and result.wlc.aps == () and result.wlc.wlans == ()
        broken = wlc_cli.assemble(device_type, {**outputs, "aps": GARBAGE})
        assert broken.wlc is None
        assert [(e.collector, e.reason) for e in broken.errors] == [("wlc.aps", "parse")]
        rejected = wlc_cli.assemble(device_type, {**outputs, "wlans": "% Invalid input detected at '^' marker.\n"})
        assert rejected.wlc is None and "rejected" in rejected.errors[0].message


# -- over SSH: one simulated controller read by SNMP and by SSH ---------------------------------


def _snmp_read(model: ControllerModel, tmp_path):
    from collectors.credentials import SnmpV2cCredentials

    port = lab_mod.free_udp_port()
    secrets = Secrets(snmp={"v2": SnmpV2cCredentials("v2", model.hostname)})
    cfg = Config(db=tmp_path / "unused.db", optics_interval=0, hardware_interval=0, topology_interval=0)
    device = DeviceRow(1, model.hostname, "127.0.0.1", port, "city-hall", "wlc", "v2", None, None)

    async def go():
        poller = Poller(cfg, secrets)
        try:
            return await poller.poll(device)
        finally:
            poller.close()

    with ControllerAgent(model, port):
        result = asyncio.run(go())
    assert result.wlc is not None, result.errors
    return result


def test_the_same_controller_over_snmp_and_over_ssh_gives_the_same_aps_and_wlans(tmp_path):
    model = _model()
    snmp = _snmp_read(model, tmp_path)
    up = [a for a in snmp.wlc.aps if a.status == "up"]
    assert len(up) < len(snmp.wlc.aps) == 36  # the simulation has an AP down: it shows as missing over SSH
    per_ap = {}
    for c in snmp.wlc.clients:
        per_ap[c.ap_mac] = per_ap.get(c.ap_mac, 0) + 1

    for device_type, behaviour in (
        ("cisco_wlc_ssh", wlc_cli_sim.aireos_device(model, USER, PASSWORD)),
        ("cisco_xe", wlc_cli_sim.c9800_device(model, USER, PASSWORD)),
    ):
        with FakeDevice(behaviour) as dev:
            ssh = wlc_cli.collect("127.0.0.1", dev.port, device_type, CREDS, label=model.hostname)
        assert ssh.errors == [], ssh.errors
        fields = lambda aps: sorted((a.mac, a.name, a.model, a.ip, a.location, a.status) for a in aps)  # noqa: E731
        assert fields(ssh.wlc.aps) == fields(up), device_type  # the same keys: the base radio MAC
        assert [(w.wlan_id, w.ssid) for w in ssh.wlc.wlans] == [(w.wlan_id, w.ssid) for w in snmp.wlc.wlans]
        assert ssh.system.name == snmp.system.name == model.hostname
        if device_type == "cisco_wlc_ssh":
            assert ssh.wlc.profile == snmp.wlc.profile == "aireos"
            assert ssh.wlc.controller_model == snmp.wlc.controller_model
            assert ssh.system.object_id == snmp.system.object_id
            assert ssh.ap_clients == {a.mac: per_ap.get(a.mac, 0) for a in up}
            assert ssh.wlc.reported_client_count == len(snmp.wlc.clients)
            # the radios of the joined APs, as SNMP has them, less what the CLI does not print
            joined = {a.mac for a in up}
            assert _got_radios(ssh.wlc.radios) == _got_radios(r for r in snmp.wlc.radios if r.ap_mac in joined)
            assert len(ssh.wlc.radios) == 2 * len(up) and {r.tx_power_unit for r in ssh.wlc.radios} == {"level"}
            assert {"show advanced 802.11b summary", "show advanced 802.11a summary"} <= set(dev.commands)
            # AireOS's own login: User:/Password: on the shell, then paging off, as netmiko's driver does it
            assert dev.commands[0] == "config paging disable"
        else:
            assert ssh.wlc.profile == "c9800"


def test_an_aireos_release_without_the_radio_lists_over_ssh_gives_the_ethernet_macs(tmp_path):
    model = _model()
    with FakeDevice(wlc_cli_sim.aireos_device(model, USER, PASSWORD, radio_lists=False)) as dev:
        ssh = wlc_cli.collect("127.0.0.1", dev.port, "cisco_wlc_ssh", CREDS, label="wlc-old-release")
    assert ssh.errors == [] and ssh.ap_key == "ethernet" and ssh.wlc.radios == ()
    snmp = _snmp_read(model, tmp_path)
    radio_macs = {a.mac for a in snmp.wlc.aps if a.status == "up"}
    assert {a.mac for a in ssh.wlc.aps} == {wlc_cli_sim._ethernet_mac(m) for m in radio_macs}
    assert not radio_macs & {a.mac for a in ssh.wlc.aps}


def test_aireos_refuses_a_wrong_password_on_its_second_login(tmp_path):
    behaviour = wlc_cli_sim.aireos_device(_model(), USER, PASSWORD)
    with FakeDevice(behaviour) as dev:
        t = time.monotonic()
        wrong = SshCredentials("x", USER, "not-the-password")
        result = wlc_cli.collect("127.0.0.1", dev.port, "cisco_wlc_ssh", wrong, CliTimeouts(prompt=2.0), label="wlc-x")
    assert result.wlc is None and time.monotonic() - t < 15
    assert [e.collector for e in result.errors] == ["cli"] and result.errors[0].reason == "auth"
    assert all("not-the-password" not in e.message for e in result.errors)


# -- the scheduler: SSH-only controllers polled on their interval into the store -----------------


def _setup(tmp_path, devices):
    store = Store(tmp_path / "n.db")
    store.import_inventory(Inventory(sites=[Site(s, "facility") for s in SITES], devices=devices))
    secrets = Secrets(ssh={"wlc-ssh": CREDS}, privacy=P)
    cfg = Config(
        db=tmp_path / "n.db", interval=10, optics_interval=0, hardware_interval=0, topology_interval=0, cli_interval=0
    )
    return store, secrets, cfg


def _ssh_wlc(hostname: str, port: int, platform: str) -> Device:
    return Device(hostname, "127.0.0.1", "city-hall", "wlc", ssh_profile="wlc-ssh", platform=platform, ssh_port=port)


def test_ssh_only_controllers_reach_the_store_and_a_dead_one_stalls_nobody(tmp_path):
    aireos, c9800 = _model("wlc-aireos"), _model("wlc-9800")
    with (
        FakeDevice(wlc_cli_sim.aireos_device(aireos, USER, PASSWORD)) as a,
        FakeDevice(wlc_cli_sim.c9800_device(c9800, USER, PASSWORD)) as c,
        FakeDevice(wlc_cli_sim.aireos_device(_model("wlc-slow"), USER, PASSWORD, delay=1.0)) as slow,
        silent_port(60) as dead_port,
    ):
        store, secrets, cfg = _setup(
            tmp_path,
            [
                _ssh_wlc("wlc-aireos", a.port, "cisco_wlc_ssh"),
                _ssh_wlc("wlc-9800", c.port, "cisco_xe"),
                _ssh_wlc("wlc-slow", slow.port, "cisco_wlc_ssh"),  # a second before every answer
                _ssh_wlc("wlc-dead", dead_port, "cisco_wlc_ssh"),  # TCP accepted, never an SSH banner
            ],
        )
        stored: dict[str, float] = {}
        record = store.record_wlc

        def spy(device, *args, **kwargs):
            stored[device.hostname] = time.monotonic() - t0
            return record(device, *args, **kwargs)

        store.record_wlc = spy

        async def go():
            poller = Poller(cfg, secrets)
            scheduler = Scheduler(cfg, store, poller, spread=0)
            scheduler.start()
            try:
                for _ in range(150):  # at most 15 s
                    states = {d["hostname"]: d for d in store.device_states()}
                    if len(stored) == 3 and states.get("wlc-dead", {}).get("up") == 0:
                        break
                    await asyncio.sleep(0.1)
            finally:
                scheduler.shutdown()
                poller.close()

        t0 = time.monotonic()
        asyncio.run(go())
    # The healthy controllers were stored while the dead one was still waiting for a banner (2.25 s)
    # and the slow one was still answering; the slow one made it within its deadline.
    assert set(stored) == {"wlc-aireos", "wlc-9800", "wlc-slow"}, stored
    assert max(stored["wlc-aireos"], stored["wlc-9800"]) < 2.25 < 4.0 < stored["wlc-slow"], stored
    states = {d["hostname"]: d for d in store.device_states()}
    assert states["wlc-aireos"]["up"] == 1 and states["wlc-9800"]["up"] == 1 and states["wlc-slow"]["up"] == 1
    assert states["wlc-dead"]["up"] == 0 and states["wlc-dead"]["last_error_reason"] == "timeout"
    assert states["wlc-aireos"]["uptime_ticks"] >= 8_640_000 and states["wlc-9800"]["uptime_ticks"] is None
    aps = store.access_points()
    by_controller = {}
    for ap in aps:
        by_controller.setdefault(ap["controller"], []).append(ap)
    assert len(by_controller["wlc-aireos"]) == len(by_controller["wlc-9800"]) == 35  # 36 APs, one not joined
    # stored under the base radio MACs, as SNMP, RADIUS's Called-Station-Id and MAC mappings know them
    radio_macs = {":".join(f"{b:02x}" for b in mac) for mac, _, _ in aireos.aps()}
    assert {ap["mac"] for ap in by_controller["wlc-aireos"]} <= radio_macs
    radios = store.conn.execute(
        "SELECT count(*), count(DISTINCT ap_mac) FROM ap_radios r JOIN devices d ON d.id = r.controller_id "
        "WHERE d.hostname = 'wlc-aireos'"
    ).fetchone()
    assert tuple(radios) == (70, 35)
    assert {ap["site"] for ap in by_controller["wlc-aireos"]} == set(SITES)
    assert all(ap["status"] == "up" for ap in aps)
    assert "wlc-dead" not in by_controller
    store.close()


def test_netmon_poll_reads_an_ssh_only_controller(tmp_path):
    with FakeDevice(wlc_cli_sim.aireos_device(_model("wlc-aireos"), USER, PASSWORD)) as a:
        store, secrets, cfg = _setup(tmp_path, [_ssh_wlc("wlc-aireos", a.port, "cisco_wlc_ssh")])
        results = asyncio.run(poll_all(Poller(cfg, secrets), store, store.devices()))
    assert results[0].up and results[0].errors == [] and results[0].wlc.profile == "aireos"
    assert {(r.collector, r.error_reason) for r in results[0].runs} == {("cli", None), ("wlc", None)}
    assert len(store.access_points()) == 35
    store.close()


def test_c9800_summaries_of_releases_before_17_9_parse_too():
    """Up to 17.8 the 9800 prints Location before Country, IP Address and State; the header picks the form."""
    raw = (
        "Number of APs: 2\n\n"
        "AP Name                            Slots    AP Model  Ethernet MAC    Radio MAC       Location"
        "                          Country     IP Address                                 State\n" + "-" * 120 + "\n"
        "ap-arena-01                       2      9120AXI   00a7.42e8.4011  00a7.42e8.b111  Building A 1"
        "                      CA          127.30.0.1                                 Registered\n"
        "ap-arena-02                       3      9130AXE   00a7.42f2.8622  00a7.42f3.cb22  default location"
        "                  CA          2001:db8::22                               Registered\n"
    )
    aps, clients = wlc_cli.aps_from_rows(cli_parsers.parse_rows("cisco_ios", "show ap summary", raw))
    assert [(a.mac, a.name, a.model, a.ip, a.location, a.status) for a in aps] == [
        ("00:a7:42:e8:b1:11", "ap-arena-01", "9120AXI", "127.30.0.1", "Building A 1", "up"),
        ("00:a7:42:f3:cb:22", "ap-arena-02", "9130AXE", "2001:db8::22", "default location", "up"),
    ]
    assert clients == {}


def test_only_switch_platforms_get_the_switch_style_ssh_job(tmp_path):
    """An AireOS controller's CLI is read by its poll; the 9800 (IOS-XE) also gets the switch-style collector."""
    store, secrets, cfg = _setup(
        tmp_path, [_ssh_wlc("wlc-aireos", 2222, "cisco_wlc_ssh"), _ssh_wlc("wlc-9800", 2223, "cisco_xe")]
    )
    cfg = Config(db=tmp_path / "n.db", interval=10, cli_interval=900)

    async def go():
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=60)
        scheduler.start()
        try:
            return {job.id for job in scheduler.scheduler.get_jobs()}
        finally:
            scheduler.shutdown()
            poller.close()

    jobs = asyncio.run(go())
    assert {"poll:wlc-aireos", "poll:wlc-9800", "cli:wlc-9800"} <= jobs and "cli:wlc-aireos" not in jobs
    store.close()


def test_the_inventory_accepts_an_ssh_only_aireos_controller(tmp_path):
    from inventory.yaml_file import load

    path = tmp_path / "inventory.yml"
    path.write_text(
        "sites: [{name: city-hall, kind: office}]\n"
        "devices:\n"
        "  - {hostname: wlc-1, address: 127.0.0.5, site: city-hall, role: wlc, ssh: noc, platform: cisco_wlc_ssh}\n"
    )
    device = load(path, snmp_profiles=[], ssh_profiles=["noc"]).devices[0]
    assert (device.snmp_profile, device.ssh_profile, device.platform) == (None, "noc", "cisco_wlc_ssh")


def test_the_labs_ssh_only_controller_reaches_the_store_through_the_scheduler(tmp_path):
    """The lab's wlc-annex (AireOS, SSH only, no SNMP) as `netmon run` meets it: the inventory the lab writes, the
    scheduler's SSH pool, the store (APs at their sites under their base radio MACs), the exporter."""
    from prometheus_client.parser import text_string_to_metric_families

    import inventory
    from exporters.prometheus import exposition
    from netmon import secrets as secrets_mod

    lab = lab_mod.build(tmp_path / "lab", sites=4, ports=4, legacy=False, v3=False, ssh=False, wlc_9800=False)
    annex = lab.wlc_model(lab_mod.WLC_ANNEX)
    assert annex.kind == "aireos" and len(annex.sites) == 3 and annex.aps_per_site == 10
    secrets = secrets_mod.load(lab.secrets_path)
    inv = inventory.load(lab.inventory_path, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
    (device,) = [d for d in inv.devices if d.hostname == lab_mod.WLC_ANNEX]
    assert (device.role, device.snmp_profile, device.platform) == ("wlc", None, "cisco_wlc_ssh")
    assert device.ssh_port == lab.wlc_annex_port and f"lab-{device.hostname}" not in secrets.snmp
    store = Store(tmp_path / "n.db")
    store.import_inventory(Inventory(sites=inv.sites, devices=[device]))
    cfg = Config(db=tmp_path / "n.db", interval=15, optics_interval=0, hardware_interval=0, topology_interval=0)
    polls = []
    record = store.record_wlc

    def spy(controller, at, result, *args, **kwargs):
        polls.append(result)
        return record(controller, at, result, *args, **kwargs)

    store.record_wlc = spy

    async def go():
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=0)
        scheduler.start()
        try:
            for _ in range(100):  # at most 10 s
                if polls:
                    break
                await asyncio.sleep(0.1)
        finally:
            scheduler.shutdown()
            poller.close()

    with lab_mod.WlcDevice(lab) as controllers:
        asyncio.run(go())
        assert controllers.cli is not None and controllers.cli.connections >= 1
    assert polls, "wlc-annex was not polled"
    assert polls[0].profile == "aireos" and [(w.wlan_id, w.ssid) for w in polls[0].wlans] == [
        (1, "CityWiFi"), (2, "eduroam")
    ]  # fmt: skip
    state = {d["hostname"]: d for d in store.device_states()}[lab_mod.WLC_ANNEX]
    assert state["up"] == 1
    aps = store.access_points()
    # the joined APs (the CLI does not list one that is down), each under its base radio MAC, at its site
    joined = [(mac, name) for n, (mac, name, _) in enumerate(annex.aps()) if not annex.ap_down(n)]
    expected = {":".join(f"{b:02x}" for b in mac): name for mac, name in joined}
    assert {a["mac"]: a["name"] for a in aps} == expected and len(expected) >= 25
    assert all(a["controller"] == lab_mod.WLC_ANNEX and a["status"] == "up" for a in aps)
    assert all(a["name"].startswith(f"apx-{a['site']}-") for a in aps)
    assert {a["site"] for a in aps} == set(annex.sites)
    radios = store.conn.execute("SELECT count(*) FROM ap_radios").fetchone()[0]
    assert radios == 2 * len(expected)
    store.close()
    text = exposition(tmp_path / "n.db", process_metrics=False)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    shown = {(s.labels["controller"], s.labels["site"], s.labels["ap"]) for s in families["netmon_wifi_ap_up"].samples}
    assert shown == {(lab_mod.WLC_ANNEX, a["site"], a["name"]) for a in aps}
    # The CLI has no client table: nothing of its residents anywhere in the database.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*")).lower()
    for c in annex.clients(time.time()):
        assert bytes(c["mac"]).hex(":").encode() not in raw and (not c["user"] or c["user"].encode() not in raw)
