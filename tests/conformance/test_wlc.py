"""netmon's controller profiles against LibreNMS's ``wireless`` sensors on the same real walks.

What LibreNMS records for a controller (``expected/<name>.json``, section
``wireless``) is a handful of sensors, not tables:

* class ``ap-count``: the controller's own count of joined APs
  (clsSysApConnectCount on AireOS/CBW, cLApGlobalAPConnectCount on the 9800,
  wlsxSwitchTotalNumAccessPoints on ArubaOS). netmon's
  ``reported_ap_count`` must be the same number.
* class ``clients``, type ``<os>-ssid``: one sensor per WLAN, index = the WLAN
  index, description ``"SSID: <ssid>"``, value bsnDot11EssNumberOfMobileStations.
  netmon's :class:`Wlan` with that ``wlan_id`` must have the same SSID and
  client count.
* class ``clients``, the total: on Cisco, LibreNMS's presentation rule is the
  *sum* of the per-WLAN counters (its ``sensor_oids`` list them), which netmon
  does not store; the test sums netmon's WLAN counts the same way. On ArubaOS
  it is wlsxSwitchTotalNumStationsAssociated: netmon's ``reported_client_count``.

LibreNMS records no AP names, so AP names are checked against the walk
itself, read straight from the ``.snmprec`` file (bsnAPName on Cisco,
wlanAPName / wlanAPRadioAPName on Aruba), not through SNMP. For the CBW the
APs also appear in LibreNMS's ``entity-physical``: one entity per AP besides
the controller's own (index 1). The controller model is compared with the
``os`` section's ``hardware`` where LibreNMS has one.

``iosxe_c9800`` has only LibreNMS's expected JSON (the walk is over 4 MiB and
not shared): it is skipped, with that reason.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from collectors import system, wlc
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import WlcResult
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from collectors.wlc import aruba
from tests.conformance import EXPECTED, FIXTURES, MISSING_REASON, SNMP_FIXTURES

pytestmark = pytest.mark.integration

if not FIXTURES.is_dir():
    pytest.skip(MISSING_REASON, allow_module_level=True)

WALKS = ["ciscowlc_cbw240ac", "arubaos", "arubaos_aruba7210", "iosxe_c9800"]
# Where each walk keeps its AP names (column OID prefix, and how many index parts follow the MAC).
AP_NAME_COLUMNS = {
    "aireos": ["1.3.6.1.4.1.14179.2.2.1.1.3."],
    "aruba": ["1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.3.", "1.3.6.1.4.1.14823.2.2.1.5.2.1.5.1.16."],
}

_POLLED: dict[str, WlcResult] = {}


def expected(name: str) -> dict:
    path = EXPECTED / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def librenms_sensors(doc: dict) -> list[dict]:
    section = doc.get("wireless") or {}
    phase = section.get("poller") if isinstance(section.get("poller"), dict) else section.get("discovery")
    return (phase or {}).get("wireless_sensors") or []


def librenms_hardware(doc: dict) -> str:
    devices = ((doc.get("os") or {}).get("discovery") or {}).get("devices") or [{}]
    return devices[0].get("hardware") or ""


def walk_ap_names(name: str, profile: str) -> dict[str, str]:
    """AP MAC -> name, read from the .snmprec text itself."""
    names: dict[str, str] = {}
    for line in (SNMP_FIXTURES / f"{name}.snmprec").read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        for prefix in AP_NAME_COLUMNS[profile]:
            if oid.startswith(prefix):
                octets = [int(x) for x in oid[len(prefix) :].split(".")[:6]]
                names.setdefault(":".join(f"{b:02x}" for b in octets), rest.partition("|")[2])
    return names


@pytest.fixture
def polled(walk_agent):
    def get(name: str) -> WlcResult:
        if name not in _POLLED:

            async def go():
                client = SnmpClient()
                try:
                    target = SnmpTarget("127.0.0.1", walk_agent.port, timeout=5.0, retries=1)
                    session = await client.session(target, SnmpV2cCredentials(f"conformance-{name}", name))
                    return await wlc.collect(session, (await system.collect(session)).object_id)
                finally:
                    client.close()

            _POLLED[name] = asyncio.run(go())
        return _POLLED[name]

    return get


@pytest.mark.parametrize("name", WALKS)
def test_controller_matches_librenms(name, polled, conformance_report):
    if not (SNMP_FIXTURES / f"{name}.snmprec").is_file():
        pytest.skip(f"{name}: only LibreNMS's expected JSON is shared (the walk is over 4 MiB and not available)")
    doc = expected(name)
    got = polled(name)
    sensors = librenms_sensors(doc)

    ap_counts = [s["sensor_current"] for s in sensors if s["sensor_class"] == "ap-count"]
    per_ssid = {
        int(s["sensor_index"]): (s["sensor_descr"].removeprefix("SSID: "), s["sensor_current"])
        for s in sensors
        if s["sensor_class"] == "clients" and s["sensor_type"].endswith("-ssid")
    }
    totals = [
        s["sensor_current"]
        for s in sensors
        if s["sensor_class"] == "clients" and not s["sensor_type"].endswith("-ssid")
    ]

    # AP count: the controller's own counter, exactly.
    if ap_counts:
        assert got.reported_ap_count == sum(ap_counts)
    else:
        assert got.reported_ap_count is None  # LibreNMS made no ap-count sensor: the walk has no counter

    # Clients per SSID: same WLAN index, same SSID, same count.
    netmon_per_ssid = {w.wlan_id: (w.ssid, w.clients) for w in got.wlans if w.wlan_id is not None}
    assert netmon_per_ssid == per_ssid

    # Client total. LibreNMS's Cisco rule: the sum of the per-WLAN counters (not a device value).
    if totals:
        if per_ssid:
            assert sum(c for _, c in netmon_per_ssid.values()) == sum(totals)
        else:
            assert got.reported_client_count == sum(totals)
    elif not per_ssid:
        assert got.reported_client_count is None and got.wlans == () and got.clients == ()

    # AP names: netmon's against the walk's own text.
    names = walk_ap_names(name, got.profile)
    assert {a.mac: a.name for a in got.aps} == names

    # Cisco Business Wireless: LibreNMS's entity-physical lists the joined APs besides the controller (index 1).
    entities = ((doc.get("entity-physical") or {}).get("discovery") or {}).get("entPhysical") or []
    if got.profile == "aireos" and entities:
        ap_entities = [e for e in entities if e["entPhysicalIndex"] != 1 and "Access Point" in e["entPhysicalDescr"]]
        assert len(got.aps) == len(ap_entities)

    # Controller model. LibreNMS's arubaos rule takes it only from sysDescr's "(MODEL: ...)"; where that leaves
    # hardware empty (ArubaOS 6.4), netmon's ENTITY-MIB fallback has nothing to be compared with.
    hardware = librenms_hardware(doc)
    if hardware:
        assert got.controller_model == hardware
    elif got.profile == "aruba":
        descr = ((doc.get("os") or {}).get("discovery") or {}).get("devices", [{}])[0].get("sysDescr") or ""
        assert aruba.model_from_descr(descr) == ""

    radio_clients = sum(r.clients or 0 for r in got.radios)
    conformance_report(
        f"wlc {name}: profile {got.profile}, model {got.controller_model or '-'} (LibreNMS {hardware or '-'}); "
        f"APs counter {got.reported_ap_count} (LibreNMS {sum(ap_counts) if ap_counts else '-'}), "
        f"AP rows {len(got.aps)} with names as in the walk; "
        f"WLANs {len(got.wlans)} matching LibreNMS's {len(per_ssid)} SSID sensors; "
        f"clients total LibreNMS {sum(totals) if totals else '-'}, netmon WLAN sum "
        f"{sum(w.clients or 0 for w in got.wlans)} / counter {got.reported_client_count}; "
        f"radios {len(got.radios)} carrying {radio_clients} clients; client rows {len(got.clients)}"
    )


def test_cbw_radio_counters_add_up_to_the_ssid_counters(polled):
    """On the CBW walk, per-radio bsnApIfNoOfUsers sum to the per-WLAN counters LibreNMS graphs."""
    if not (SNMP_FIXTURES / "ciscowlc_cbw240ac.snmprec").is_file():
        pytest.skip("ciscowlc_cbw240ac walk not present")
    got = polled("ciscowlc_cbw240ac")
    assert sum(r.clients or 0 for r in got.radios) == sum(w.clients or 0 for w in got.wlans) == 23
    assert {r.band for r in got.radios} == {"2.4GHz", "5GHz"}
    assert all(re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", r.ap_mac) for r in got.radios)
