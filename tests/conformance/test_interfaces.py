"""netmon's interface list against LibreNMS's expected ports, on the same real-device walks.

For each walk in ../shared/fixtures/snmp that has ``expected/<name>.json``
with a ``ports`` section (LibreNMS's database rows after discovery and one
poll), netmon's ``collectors.interfaces.collect`` runs against snmpsim and
the two lists must agree on count, ifIndex, name, speed and oper status.

How the lists are compared, and why:

1. Every port LibreNMS lists (rows not marked ``deleted``) must be in
   netmon's list under the same ifIndex, with the same ifName, speed and
   ifOperStatus. Nothing is tolerated here.
2. LibreNMS does not keep every ifTable row: ``is_port_valid()``
   (includes/functions.php) drops ports by its default ``bad_if``,
   ``bad_if_regexp``, ``bad_iftype`` and ``bad_ifoperstatus`` settings
   (misc/config_definitions.json). netmon deliberately keeps every row: it
   is a monitor of what the device reports, and which ports to show is a
   dashboard/alerting decision, not the collector's. So the same filter,
   transcribed below, is applied to netmon's list, and after it the ifIndex
   sets must be equal: every netmon port LibreNMS lacks must be excluded by
   a named rule, and no port LibreNMS lists may be one the rule excludes
   (that would mean the transcription is wrong). On these walks the rule
   explains exactly: Juniper ``lsi`` (ifType mplsTunnel, matches "mpls"),
   the IE-3200's empty slot Gi1/2 (ifOperStatus notPresent) and the
   CBW240AC's "Virtual Interface" (ifDescr matches "irtual").
3. Speed: LibreNMS takes ifHighSpeed x 10^6 whenever ifHighSpeed is there,
   else ifSpeed (includes/polling/ports.inc.php), and stores an unknown
   speed (0) as NULL; its rows show ``ifSpeed: null`` with
   ``ifSpeed_prev: 0`` for exactly the ports whose ifHighSpeed is 0. netmon
   reports such a port as 0 b/s ("unknown", IF-MIB's meaning of
   ifHighSpeed 0), so netmon's 0 is compared as NULL. Every non-zero speed
   must be equal to the bit.
4. Names: LibreNMS's ifName is the trimmed ifName, or ifDescr when ifName
   is empty (port_fill_missing_and_trim); netmon's rule is the same, so
   names are compared as they are.

Walks without LibreNMS ports (iosxe_c3850 has no expected JSON) are polled
anyway: netmon must return every interface with a name. Expected JSON
without a walk (iosxe_c9800: NOTICE.md says the walk is over 4 MiB and not
available) skips with that reason.
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from collectors.observations import OPER_STATUS
from tests.conformance import EXPECTED, FIXTURES, MISSING_REASON, SNMP_FIXTURES

pytestmark = pytest.mark.integration

if not FIXTURES.is_dir():
    pytest.skip(MISSING_REASON, allow_module_level=True)
if not SNMP_FIXTURES.is_dir():
    pytest.skip(f"{SNMP_FIXTURES} not found: no SNMP walks to check against", allow_module_level=True)

# The walks the brief names; the suite fails rather than shrink silently if one goes missing.
REQUIRED_WITH_PORTS = (
    "ios_2960x",
    "nxos_n3k-3064pq",
    "arista_eos_vrf",
    "junos_qfx5100",
    "iosxe_ie32008t2s-ios17-12",
    "arubaos-cx_10.15-transceivers",
    "arubaos",
    "ciscowlc_cbw240ac",
)
REQUIRED_WITHOUT_EXPECTATION = ("iosxe_c3850",)

# --- LibreNMS's default port filter (is_port_valid), transcribed --------------------------------
# misc/config_definitions.json defaults. bad_if: case-insensitive substring of ifDescr.
LIBRENMS_BAD_IF = (
    "voip-null",
    "virtual-",
    "unrouted",
    "eobc",
    "lp0",
    "-atm",
    "faith0",
    "container",
    "async",
    "plip",
    "-physical",
    "bluetooth",
    "isatap",
    "ras",
    "qos",
    "span rp",
    "span sp",
    "sslvpn",
    "pppoe-",
    "irtual",
)
# bad_if_regexp: PCRE with the /i flag, on ifDescr.
LIBRENMS_BAD_IF_REGEXP = (re.compile(r"^ng[0-9]+$", re.IGNORECASE), re.compile(r"^sl[0-9]", re.IGNORECASE))
# bad_iftype: case-sensitive substring of the ifType *name* (IANAifType-MIB enumeration label).
LIBRENMS_BAD_IFTYPE = (
    "voiceEncap",
    "voiceFXO",
    "voiceFXS",
    "voiceOverAtm",
    "voiceOverFrameRelay",
    "voiceOverIp",
    "ds0",
    "ds1",
    "ds3",
    "sonet",
    "atmSubInterface",
    "aal5",
    "shdsl",
    "mpls",
)
# bad_ifoperstatus: substring of the ifOperStatus name.
LIBRENMS_BAD_IFOPERSTATUS = ("notPresent",)
# netmon keeps ifType as the IANAifType number; LibreNMS matches the label. These are the
# IANAifType-MIB labels that contain one of the bad_iftype substrings above.
IANA_IFTYPE_LABELS = {
    18: "ds1",
    30: "ds3",
    39: "sonet",
    49: "aal5",
    50: "sonetPath",
    51: "sonetVT",
    81: "ds0",
    82: "ds0Bundle",
    101: "voiceFXO",
    102: "voiceFXS",
    103: "voiceEncap",
    104: "voiceOverIp",
    134: "atmSubInterface",
    150: "mplsTunnel",
    152: "voiceOverAtm",
    153: "voiceOverFrameRelay",
    166: "mpls",
    169: "shdsl",
    170: "ds1FDL",
    185: "sonetOverheadChannel",
}


def librenms_exclusion(*, ifdescr: str, ifname: str, iftype: int, oper_status: int) -> str | None:
    """Why LibreNMS's default ``is_port_valid()`` would drop this port, or ``None`` if it keeps it.

    Only the global defaults are transcribed; OS-specific additions
    (``getCombined``) and ``good_if`` are left out. On these walks the
    defaults alone explain every difference, and the two-way check in the
    test fails if an OS rule ever mattered.
    """
    descr = ifdescr or ifname  # port_fill_missing_and_trim: an empty ifDescr takes ifName first
    if not descr:
        return "empty ifDescr and ifName"
    lowered = descr.lower()
    for bad in LIBRENMS_BAD_IF:
        if bad in lowered:
            return f"bad_if {bad!r} in ifDescr {descr!r}"
    for pattern in LIBRENMS_BAD_IF_REGEXP:
        if pattern.search(descr):
            return f"bad_if_regexp {pattern.pattern!r} matches ifDescr {descr!r}"
    label = IANA_IFTYPE_LABELS.get(iftype, "")
    for bad in LIBRENMS_BAD_IFTYPE:
        if bad in label:
            return f"bad_iftype {bad!r} in ifType {label}({iftype})"
    oper = OPER_STATUS.get(oper_status, "")
    for bad in LIBRENMS_BAD_IFOPERSTATUS:
        if bad in oper:
            return f"bad_ifoperstatus {bad!r}: ifOperStatus {oper}"
    return None


def as_librenms_speed(speed_bps: int | None) -> int | None:
    # LibreNMS stores an unknown speed (0) as NULL; netmon reports it as 0. See the module docstring.
    return speed_bps or None


# --- the fixtures ---------------------------------------------------------------------------------
@functools.cache
def librenms_ports(name: str) -> tuple[dict, ...] | None:
    """``ports.poller.ports`` (falling back to ``ports.discovery.ports``) of expected/<name>.json."""
    path = EXPECTED / f"{name}.json"
    if not path.is_file():
        return None
    ports = json.loads(path.read_text()).get("ports")
    if not isinstance(ports, dict):
        return None
    for stage in ("poller", "discovery"):
        section = ports.get(stage)  # "matches discovery" (a string) when the poller changed nothing
        if isinstance(section, dict) and isinstance(section.get("ports"), list):
            return tuple(section["ports"])
    return None


def walk_path(name: str):
    return SNMP_FIXTURES / f"{name}.snmprec"


def walk_has_if_mib(name: str) -> bool:
    prefixes = ("1.3.6.1.2.1.2.2.1.", "1.3.6.1.2.1.31.1.1.1.")
    with walk_path(name).open(errors="replace") as f:
        return any(line.lstrip(".").startswith(prefixes) for line in f)


WALKS = sorted(p.name.removesuffix(".snmprec") for p in SNMP_FIXTURES.glob("*.snmprec"))
EXPECTATIONS = sorted(p.stem for p in EXPECTED.glob("*.json")) if EXPECTED.is_dir() else []
WITH_PORTS = sorted(n for n in set(WALKS) | set(EXPECTATIONS) if librenms_ports(n) is not None)
WITHOUT_PORTS = [n for n in WALKS if librenms_ports(n) is None]


def test_the_named_real_device_walks_are_all_here():
    missing = [n for n in REQUIRED_WITH_PORTS if n not in WITH_PORTS or n not in WALKS]
    missing += [n for n in REQUIRED_WITHOUT_EXPECTATION if n not in WALKS]
    assert not missing, f"walks or expected ports missing from {SNMP_FIXTURES}: {missing}"


@pytest.mark.parametrize("name", WITH_PORTS)
def test_interfaces_match_librenms_ports(name, poll, conformance_report):
    if not walk_path(name).is_file():
        pytest.skip(
            f"{name}: expected/{name}.json has LibreNMS's ports but there is no {name}.snmprec to poll"
            " (NOTICE.md: some walks, e.g. iosxe_c9800's at over 4 MiB, are not available)"
        )
    expected = {
        port["ifIndex"]: port
        for port in librenms_ports(name)
        # A deleted row is a port LibreNMS once saw and keeps for history; a poll cannot return it.
        if not port.get("deleted")
    }
    device = poll(name)
    ours = {sample.ifindex: sample for sample in device.interfaces}
    assert len(ours) == len(device.interfaces), f"{name}: netmon returned an ifIndex twice"

    def exclusion(sample):
        return librenms_exclusion(
            ifdescr=device.descr.get(sample.ifindex, ""),
            ifname=sample.name,
            iftype=sample.type,
            oper_status=sample.oper_status,
        )

    problems: list[str] = []
    for ifindex, port in sorted(expected.items()):
        sample = ours.get(ifindex)
        label = f"ifIndex {ifindex} ({port['ifName']})"
        if sample is None:
            problems.append(f"{label}: LibreNMS lists it, netmon does not")
            continue
        got = {
            "ifName": sample.name,
            "ifSpeed": as_librenms_speed(sample.speed_bps),
            "ifOperStatus": OPER_STATUS.get(sample.oper_status, f"?{sample.oper_status}"),
        }
        for key, value in got.items():
            if value != port[key]:
                problems.append(f"{label}: {key} LibreNMS {port[key]!r}, netmon {value!r}")
        reason = exclusion(sample)
        if reason:
            problems.append(f"{label}: LibreNMS lists it, yet the transcribed filter drops it ({reason})")

    explained: list[str] = []
    for ifindex in sorted(ours.keys() - expected.keys()):
        sample = ours[ifindex]
        reason = exclusion(sample)
        if reason is None:
            problems.append(
                f"ifIndex {ifindex} ({sample.name}): netmon lists it, LibreNMS does not, and no rule says why"
            )
        else:
            explained.append(f"{sample.name} ({reason})")

    kept = [s for s in device.interfaces if exclusion(s) is None]
    if len(kept) != len(expected):
        problems.append(f"count after LibreNMS's filter: netmon {len(kept)}, LibreNMS {len(expected)}")
    conformance_report(
        f"{name}: {len(expected)} LibreNMS ports matched of {len(ours)} netmon ports"
        + (f"; filtered as LibreNMS does: {', '.join(explained)}" if explained else "")
    )
    assert not problems, f"{name}: netmon's interfaces differ from LibreNMS's ports:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", WITHOUT_PORTS)
def test_walks_without_librenms_ports_still_poll(name, poll, conformance_report):
    device = poll(name)
    if walk_has_if_mib(name):
        assert device.interfaces, f"{name}: the walk has IF-MIB rows but netmon found no interfaces"
    else:
        assert device.interfaces == [], f"{name}: the walk has no IF-MIB rows, yet netmon found interfaces"
    # netmon falls back to "ifIndex<n>" when the device gives neither ifName nor ifDescr.
    unnamed = [s.ifindex for s in device.interfaces if not s.name.strip() or s.name == f"ifIndex{s.ifindex}"]
    assert not unnamed, f"{name}: interfaces without an ifName or ifDescr: {unnamed}"
    conformance_report(f"{name}: no LibreNMS ports to compare; {len(device.interfaces)} interfaces, all named")


@pytest.mark.parametrize("name", WALKS)
def test_both_snmp_engines_read_real_walks_identically(name, poll):
    """The native SNMPv2c codec and pysnmp return the same observations from real-device data.

    snmpsim replays fixed values here, so whole samples, counters included, must be equal.
    """
    native, reference = poll(name, "native"), poll(name, "pysnmp")
    assert native.interfaces == reference.interfaces
    assert native.descr == reference.descr
