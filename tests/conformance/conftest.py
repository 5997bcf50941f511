"""One snmpsim agent for the whole session, serving every shared walk, and a poller on top.

snmpsim picks a device by SNMPv2c community: the data file's name without
``.snmprec``. ``--data-dir`` points straight at the read-only fixture folder
(its ``expected/`` subfolder holds only JSON, which snmpsim ignores) and the
index cache goes to a temporary directory, so nothing is copied or written
next to the fixtures.

Why not a temporary directory of symlinks: snmpsim 1.2.2 names a symlinked
data file after the *link target's* path cut at the depth of ``--data-dir``
(``/tmp/x/data/ios_2960x.snmprec -> /work/shared/fixtures/snmp/...`` is
served as community ``snmp/ios_2960x``), so the community would depend on
where the fixtures live.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

import pytest

from collectors import interfaces
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import InterfaceSample
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from netmon import lab as lab_mod
from tests.conformance import FIXTURES, MISSING_REASON, SNMP_FIXTURES

# Generous for loopback: snmpsim answers in well under a second even for the 1.6 MB ArubaOS walk.
TARGET_TIMEOUT = 5.0

_REPORT: list[str] = []


@dataclass(frozen=True)
class PolledDevice:
    """What netmon's interfaces collector returned for one walk, plus ifDescr for LibreNMS's rules."""

    name: str
    interfaces: list[InterfaceSample]
    # ifDescr by ifIndex. netmon only walks ifDescr when an ifName is empty, but LibreNMS's
    # port filter (bad_if, bad_if_regexp) matches on ifDescr, so the suite walks it itself,
    # through the same SnmpSession, to apply that filter faithfully.
    descr: dict[int, str] = field(default_factory=dict)


def _text(value: object) -> str:
    # LibreNMS trims ifDescr (port_fill_missing_and_trim); netmon's _text also drops NULs.
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return ""


async def _poll(port: int, name: str, engine: str = "native") -> PolledDevice:
    client = SnmpClient(engine)
    try:
        target = SnmpTarget("127.0.0.1", port, timeout=TARGET_TIMEOUT, retries=1)
        session = await client.session(target, SnmpV2cCredentials(profile=f"conformance-{name}", community=name))
        samples = await interfaces.collect(session)
        descr_column = (await session.walk_columns([interfaces.IF_DESCR]))[interfaces.IF_DESCR]
    finally:
        client.close()
    descr = {index[0]: _text(value) for index, value in descr_column.items() if len(index) == 1}
    return PolledDevice(name, samples, descr)


@pytest.fixture(scope="session")
def walk_agent(tmp_path_factory):
    """snmpsim on loopback serving every ``*.snmprec`` in ../shared/fixtures/snmp."""
    if not SNMP_FIXTURES.is_dir():
        pytest.skip(MISSING_REASON if not FIXTURES.is_dir() else f"{SNMP_FIXTURES} not found")
    try:
        lab_mod.snmpsim_command()
    except RuntimeError as exc:
        if os.environ.get("NETMON_REQUIRE_TOOLS") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("conformance-snmpsim")  # holds --cache-dir and the agent's log
    sim = lab_mod.Simulator(SNMP_FIXTURES, lab_mod.free_udp_port(), work, v3_users=[]).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def poll(walk_agent):
    """``poll(name)`` -> :class:`PolledDevice`; each walk is polled once per session."""
    cache: dict[tuple[str, str], PolledDevice] = {}

    def _get(name: str, engine: str = "native") -> PolledDevice:
        if (name, engine) not in cache:
            cache[(name, engine)] = asyncio.run(_poll(walk_agent.port, name, engine))
        return cache[(name, engine)]

    return _get


@pytest.fixture
def conformance_report():
    """Tests append one line per fixture; shown at the end of a verbose run."""
    return _REPORT.append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _REPORT and config.option.verbose > 0:
        terminalreporter.section("conformance: ports compared per fixture")
        for line in _REPORT:
            terminalreporter.write_line(line)
