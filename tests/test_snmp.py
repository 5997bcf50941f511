"""SNMP collection against real agents (snmpsim) on loopback: v2c, every v3 level, the 32-bit fallback."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from collectors import interfaces, system
from collectors.credentials import SnmpV2cCredentials, SnmpV3Credentials
from collectors.snmp.api import SnmpAuthError, SnmpTarget, SnmpTimeout
from collectors.snmp.client import SnmpClient
from netmon import lab as lab_mod
from tests.conftest import require_tool

ENGINES = ["native", "pysnmp"]


def collect(port, creds, *collectors, timeout=2.0, retries=1, engine="native"):
    return collect_at("127.0.0.1", port, creds, *collectors, timeout=timeout, retries=retries, engine=engine)


def collect_at(host, port, creds, *collectors, timeout=2.0, retries=1, engine="native"):
    async def go():
        client = SnmpClient(engine)
        try:
            session = await client.session(SnmpTarget(host, port, timeout, retries), creds)
            return [await c.collect(session) for c in collectors], session.stats
        finally:
            client.close()

    return asyncio.run(go())


def snmpbulkwalk(port, community, oid):
    exe = require_tool("snmpbulkwalk")
    out = subprocess.run(
        [exe, "-v2c", "-c", community, "-On", "-Oq", "-Cr25", f"127.0.0.1:{port}", oid],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    rows = {}
    for line in out.splitlines():
        oid_text, _, value = line.partition(" ")
        rows[int(oid_text.rsplit(".", 1)[1])] = value.strip().strip('"')
    return rows


@pytest.mark.parametrize("engine", ENGINES)
def test_v2c_interfaces_match_net_snmp(lab, engine):
    dev = next(d for d in lab.devices if d.role == "switch" and not d.v3)
    creds = SnmpV2cCredentials("t", dev.hostname)
    (sysinfo, ifs), stats = collect(lab.agent_port, creds, system, interfaces, engine=engine)
    assert sysinfo.name == dev.hostname
    assert sysinfo.object_id == lab_mod.CISCO_C9300
    assert sysinfo.uptime_ticks > 0
    # 24 access ports + 2 fibre uplinks + Vlan1
    assert len(ifs) == 27
    assert all(i.counter_bits == 64 for i in ifs)
    # Cross-check with Net-SNMP on the same agent.
    names = snmpbulkwalk(lab.agent_port, dev.hostname, ".1.3.6.1.2.1.31.1.1.1.1")
    high_speed = snmpbulkwalk(lab.agent_port, dev.hostname, ".1.3.6.1.2.1.31.1.1.1.15")
    oper = snmpbulkwalk(lab.agent_port, dev.hostname, ".1.3.6.1.2.1.2.2.1.8")
    assert {i.ifindex: i.name for i in ifs} == names
    assert {i.ifindex: i.speed_bps for i in ifs} == {k: int(v) * 1_000_000 for k, v in high_speed.items()}
    assert {i.ifindex: i.oper_status for i in ifs} == {k: int(v) for k, v in oper.items()}
    uplinks = [i for i in ifs if i.name.startswith("Te")]
    assert len(uplinks) == 2 and all(u.alias.startswith("fibre to ") for u in uplinks)
    assert stats.requests < 10  # all columns in each GETBULK, not one walk per column


@pytest.mark.parametrize("engine", ENGINES)
def test_counters_advance_between_polls(lab, engine):
    dev = next(d for d in lab.devices if d.role == "switch" and not d.v3)
    creds = SnmpV2cCredentials("t", dev.hostname)
    (a,), _ = collect(lab.agent_port, creds, interfaces, engine=engine)
    (b,), _ = collect(lab.agent_port, creds, interfaces, engine=engine)
    up = [(x, y) for x, y in zip(a, b, strict=True) if x.oper_up and x.name.startswith("Te")]
    assert up and all(y.in_octets > x.in_octets for x, y in up)


@pytest.mark.parametrize("engine", ENGINES)
def test_32bit_only_agent_falls_back(lab, engine):
    dev = next(d for d in lab.devices if d.role == "router")
    (ifs,), _ = collect(lab.agent_port, SnmpV2cCredentials("t", dev.hostname), interfaces, engine=engine)
    assert len(ifs) == 4
    for i in ifs:
        assert i.counter_bits == 32
        assert i.name.startswith("GigabitEthernet0/0/")  # ifDescr, since there is no ifName
        assert i.speed_bps == 1_000_000_000  # ifSpeed, since there is no ifHighSpeed
        assert 0 <= i.in_octets < 2**32


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_community_is_a_timeout(lab, engine):
    with pytest.raises(SnmpTimeout):
        collect(
            lab.agent_port, SnmpV2cCredentials("t", "no-such-device"), system, timeout=0.3, retries=0, engine=engine
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_ipv6_management_address(lab, tmp_path, engine):
    port = lab_mod.free_udp_port("::1")
    with lab_mod.Simulator(lab.data_dir, port, tmp_path, v3_users=[], host="::1"):
        dev = next(d for d in lab.devices if d.role == "switch" and not d.v3)
        (sysinfo, ifs), _ = collect_at(
            "::1", port, SnmpV2cCredentials("t", dev.hostname), system, interfaces, engine=engine
        )
    assert sysinfo.name == dev.hostname and len(ifs) == 27


def _identity(i):
    return (i.ifindex, i.name, i.descr, i.alias, i.type, i.speed_bps, i.admin_status, i.oper_status, i.counter_bits)


def test_engines_return_identical_observations(lab):
    for dev in lab.devices:
        if dev.v3 or dev.role == "wlc":  # the controller is not on snmpsim (netmon.lab.wlc_agent)
            continue
        creds = SnmpV2cCredentials("t", dev.hostname)
        (native,), _ = collect(lab.agent_port, creds, interfaces, engine="native")
        (reference,), _ = collect(lab.agent_port, creds, interfaces, engine="pysnmp")
        # Counters move between the two polls; everything else must be identical.
        assert [_identity(i) for i in native] == [_identity(i) for i in reference]


V3_CASES = [
    # (snmpsim auth, snmpsim priv, netmon auth, netmon priv)
    (None, None, None, None),
    ("MD5", None, "md5", None),
    ("SHA", None, "sha", None),
    ("SHA256", None, "sha256", None),
    ("SHA512", None, "sha512", None),
    ("SHA", "AES", "sha", "aes128"),
    ("SHA", "DES", "sha", "des"),
    ("SHA224", "AES192", "sha224", "aes192"),
    ("SHA256", "AES256", "sha256", "aes256"),
    ("SHA384", "AES128", "sha384", "aes128"),
    ("SHA512", "AES256", "sha512", "aes256"),
    # SHA-1 is too short for an AES-256 key: this one exercises the (Reeder) key extension.
    ("SHA", "AES256", "sha", "aes256"),
    # 3DES is served by pysnmp even under the native engine.
    ("SHA256", "3DES", "sha256", "3des"),
]
AUTH_KEY, PRIV_KEY = "v3-auth-key-123", "v3-priv-key-456"


def _user(case):
    auth, priv = case[0], case[1]
    return f"u-{auth or 'noauth'}-{priv or 'nopriv'}".lower()


@pytest.fixture(scope="module")
def v3_agent(lab, tmp_path_factory):
    users = [
        lab_mod.V3User(_user(c), c[0], AUTH_KEY if c[0] else None, c[1], PRIV_KEY if c[1] else None) for c in V3_CASES
    ]
    port = lab_mod.free_udp_port()
    sim = lab_mod.Simulator(lab.data_dir, port, tmp_path_factory.mktemp("v3"), v3_users=users).start()
    yield port
    sim.stop()


def _v3_creds(case, context):
    return SnmpV3Credentials(
        "t",
        _user(case),
        auth_protocol=case[2],
        auth_key=AUTH_KEY if case[2] else None,
        priv_protocol=case[3],
        priv_key=PRIV_KEY if case[3] else None,
        context=context,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", V3_CASES, ids=_user)
def test_v3_security_levels(lab, v3_agent, case, engine):
    dev = next(d for d in lab.devices if d.role == "switch")
    (sysinfo, ifs), _ = collect(v3_agent, _v3_creds(case, dev.hostname), system, interfaces, engine=engine)
    assert sysinfo.name == dev.hostname
    assert len(ifs) == 27


def test_v3_native_engine_resynchronises_clock_and_engine(lab, v3_agent):
    """A stale clock draws a notInTimeWindow report, a wrong engine ID an unknownEngineID one: both recover."""
    dev = next(d for d in lab.devices if d.role == "switch")
    creds = _v3_creds(("SHA256", "AES256", "sha256", "aes256"), dev.hostname)

    async def go():
        client = SnmpClient("native")
        try:
            session = await client.session(SnmpTarget("127.0.0.1", v3_agent, 2.0, 0), creds)
            first = await session.get([system.SYS_NAME])
            state = client._native._engines[session.peer]
            real_time = state.time
            state.time += 100_000  # far outside the 150 s window
            second = await session.get([system.SYS_NAME])
            resynced_time = state.time  # the agent's notInTimeWindow report put it back
            state = client._native._engines[session.peer]
            client._native._engines[session.peer] = type(state)(
                b"\x80\x00\x00\x00\x01bogus", state.boots, state.time, state.synced_at
            )
            third = await session.get([system.SYS_NAME])
            return (
                first,
                second,
                third,
                resynced_time - real_time,
                client._native._engines[session.peer].engine_id,
                state.engine_id,
            )
        finally:
            client.close()

    first, second, third, clock_error, engine_id, real_engine_id = asyncio.run(go())
    assert first == second == third == {system.SYS_NAME: dev.hostname.encode()}
    assert 0 <= clock_error < 60  # back on the agent's clock, not 100,000 s ahead
    assert engine_id == real_engine_id  # rediscovered


@pytest.mark.parametrize(
    "creds",
    [
        SnmpV3Credentials("t", "u-sha256-aes256", "sha256", "wrong-auth-key", "aes256", PRIV_KEY, context="x"),
        SnmpV3Credentials("t", "nobody-here", "sha", AUTH_KEY, context="x"),
    ],
    ids=["wrong-auth-key", "unknown-user"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_v3_rejections_are_auth_errors_without_secrets(v3_agent, creds, engine):
    with pytest.raises(SnmpAuthError) as err:
        collect(v3_agent, creds, system, timeout=1.0, retries=0, engine=engine)
    assert AUTH_KEY not in str(err.value) and PRIV_KEY not in str(err.value) and "wrong-auth-key" not in str(err.value)
