"""The simulated Catalyst 9800, polled over the wire by the c9800 profile; the lab's two controllers in the store."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from collections import Counter

import pytest

import inventory
from collectors import system, wlc
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import Wlan
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from collectors.wlc import C9800_PRODUCTS, aireos, c9800
from inventory.model import Inventory
from netmon import lab as lab_mod
from netmon import secrets as netmon_secrets
from netmon.config import Config, SnmpSettings
from netmon.lab.wlc_agent import C9800_OBJECT_ID, REALMS, SSIDS, ControllerAgent, ControllerModel
from netmon.poller import Poller
from netmon.scheduler import poll_all
from netmon.store import Store
from tests.conftest import require_tool

pytestmark = pytest.mark.integration

T0 = 1_800_000_000.0
SITES = ["library-riverside", "arena-old-town", "transit-northgate", "cc-westboro"]


def _model(seed: str) -> ControllerModel:
    return ControllerModel("wlc-9800", SITES, aps_per_site=25, people=600, seed=seed, kind="c9800", block=1)


def _interesting_model() -> ControllerModel:
    """A seed whose 100 APs include one down and one administratively disabled (searched, bounded)."""
    for n in range(200):
        model = _model(f"t{n}")
        if any(model.ap_down(i) for i in range(100)) and any(model.ap_disabled(i) for i in range(100)):
            return model
    raise AssertionError("no seed with a down and a disabled AP")


MODEL = _interesting_model()


def _poll(port: int, community: str, engine: str):
    async def go():
        client = SnmpClient(engine)
        try:
            session = await client.session(SnmpTarget("127.0.0.1", port, 5.0, 1), SnmpV2cCredentials("c", community))
            object_id = (await system.collect(session)).object_id
            return object_id, await wlc.collect(session, object_id)
        finally:
            client.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def agent():
    port = lab_mod.free_udp_port()
    with ControllerAgent(MODEL, port, clock=lambda: T0):  # the city frozen at T0: one population for the test
        yield port


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
def test_c9800_profile_reads_the_simulated_9800(agent, engine):
    object_id, got = _poll(agent, "wlc-9800", engine)
    assert object_id == ".".join(map(str, C9800_OBJECT_ID)) and C9800_OBJECT_ID in C9800_PRODUCTS
    assert got.profile == "c9800" and got.controller_model == "C9800-40-K9"

    aps = MODEL.aps()
    down = {aps[n][0] for n in range(len(aps)) if MODEL.ap_down(n)}
    disabled = {aps[n][0] for n in range(len(aps)) if MODEL.ap_disabled(n)}
    mac = lambda raw: ":".join(f"{b:02x}" for b in raw)  # noqa: E731
    assert [(a.mac, a.name, a.location) for a in got.aps] == [(mac(m), n, loc) for m, n, loc in aps]
    status = {a.mac: a.status for a in got.aps}
    assert {m for m, s in status.items() if s == "down"} == {mac(m) for m in down}
    assert {m for m, s in status.items() if s == "disabled"} == {mac(m) for m in disabled}
    assert Counter(status.values())["up"] == len(aps) - len(down) - len(disabled)
    assert got.reported_ap_count == len(aps) - len(down)  # cLApGlobalAPConnectCount: joined APs
    assert {a.model for a in got.aps} == {"C9120AXI-E", "C9130AXI-E", "CW9166I-ROW"}
    assert all(a.ip.startswith("127.31.") and a.serial.startswith("FJC27") for a in got.aps)
    assert all(a.uptime_seconds == 0 for a in got.aps if a.status == "down")

    # Radios from bsnAPIfTable: two per AP, three (with 6 GHz) on the Wi-Fi 6E model; power in dBm.
    six = {a.mac for a in got.aps if a.model == "CW9166I-ROW"}
    assert len(got.radios) == 2 * len(aps) + len(six)
    assert {r.ap_mac for r in got.radios if r.band == "6GHz"} == six
    assert {r.band for r in got.radios if r.slot == 0} == {"2.4GHz"}
    assert {r.band for r in got.radios if r.slot == 1} == {"5GHz"}
    assert all(r.tx_power_unit == "dBm" for r in got.radios)

    clients = MODEL.clients(T0)
    per_ap = Counter(mac(c["ap"]) for c in clients)
    on_radios = Counter()
    for r in got.radios:
        on_radios[r.ap_mac] += r.clients
    assert {m: n for m, n in on_radios.items() if n} == {m: n for m, n in per_ap.items() if m not in map(mac, down)}

    # WLANs: SSIDs from cLWlanConfigTable, client counts from bsnDot11EssTable.
    per_wlan = Counter(c["wlan"] for c in clients)
    assert got.wlans == tuple(Wlan(ssid, wlan, per_wlan[wlan]) for wlan, ssid in SSIDS.items())

    # Clients from cldcClientTable (+ statistics), protocol from AIRESPACE where LWAPP says "unknown".
    assert len(got.clients) == len(clients) > 100
    by_mac = {c.mac: c for c in got.clients}
    for c in clients:
        seen = by_mac[mac(c["mac"])]
        assert (seen.ap_mac, seen.ssid, seen.wlan_id, seen.status) == (
            mac(c["ap"]), SSIDS[c["wlan"]], c["wlan"], "associated"
        )  # fmt: skip
        assert (seen.username, seen.bytes_rx, seen.bytes_tx, seen.rssi_dbm) == (c["user"], c["rx"], c["tx"], c["rssi"])
        bsn, cldc = MODEL.c9800_protocol(c["mac"])
        expected = c9800.CLIENT_PROTOCOL.get(cldc) or aireos.STATION_PROTOCOL[bsn]
        assert seen.protocol == expected
    protocols = Counter(c.protocol for c in got.clients)
    assert set(protocols) == {"802.11ax", "802.11ac", "802.11n"}
    assert protocols["802.11ax"] > len(clients) / 3  # only bsnMobileStationProtocol knows these
    eduroam = [c for c in got.clients if c.ssid == "eduroam"]
    assert eduroam and all(c.username.split("@")[1] in REALMS for c in eduroam)
    assert all(c.username == "" for c in got.clients if c.ssid == "CityWiFi")


def test_net_snmp_reads_the_9800_tables(agent):
    """Net-SNMP, an independent implementation, walks the 9800's LWAPP client table and its AP scalar."""
    exe = require_tool("snmpbulkwalk")
    out = subprocess.run(
        [exe, "-v2c", "-c", "wlc-9800", "-On", "-Cr30", f"127.0.0.1:{agent}", "1.3.6.1.4.1.9.9.599.1.3.1.1.27"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    users = [line.split('"')[1] for line in out.splitlines() if '"' in line]
    clients = MODEL.clients(T0)
    assert len(users) == len(clients)
    assert sorted(u for u in users if u) == sorted(c["user"] for c in clients if c["user"])
    count = subprocess.run(
        [exe.replace("snmpbulkwalk", "snmpget"), "-v2c", "-c", "wlc-9800", "-On", "-Oqv",
         f"127.0.0.1:{agent}", "1.3.6.1.4.1.9.9.513.1.3.35.0"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert int(count) == sum(not MODEL.ap_down(n) for n in range(len(MODEL.aps())))


def test_getbulk_stays_within_the_pdu_limit_and_ends_the_mib():
    """GETBULK: at most max_varbinds, row by row, and endOfMibView past the last OID."""
    from collectors.snmp import ber

    agent = ControllerAgent(ControllerModel("c", ["s"], 2, 10), 0, clock=lambda: T0, max_varbinds=10)
    oids, _ = agent._rows()
    columns = [(1, 3, 6, 1, 4, 1, 14179, 2, 2, 1, 1, 3), (1, 3, 6, 1, 4, 1, 14179, 2, 2, 1, 1, 4)]
    pdu = ber.encode_pdu(ber.GET_BULK, 7, columns, max_repetitions=25)
    request = ber.decode_message(ber.encode_sequence(ber.encode_integer(1) + ber.encode_octets(b"c") + pdu))
    answer = ber.decode_message(agent.answer(request))
    assert len(answer.varbinds) == 10 and answer.request_id == 7
    names = [oid for oid, _ in answer.varbinds[0::2]]
    assert names[:2] == [columns[0] + (0, 0x3A, 0xA0, 0, 0, n) for n in (1, 2)]  # column 3, AP 1 then AP 2
    last = ber.decode_message(agent.answer(dataclasses.replace(request, varbinds=[(oids[-1], None)])))
    assert last.varbinds[0] == (oids[-1], ber.END_OF_MIB_VIEW)


def test_the_labs_controllers_never_share_a_mac_or_user_name(tmp_path):
    lab = lab_mod.build(tmp_path, sites=5, ports=4, legacy=False, v3=False, ssh=False, wlc_aps_per_site=6)
    city, c9k, annex = lab.wlc_models()
    assert (city.kind, c9k.kind, annex.kind) == ("aireos", "c9800", "aireos") and lab.wlc_model() is not None
    assert lab.wlc_model().hostname == "wlc-city" and lab.wlc_model("wlc-9800").kind == "c9800"
    assert set(c9k.sites) == {s["name"] for s in lab.sites[1::2]} and len(city.sites) == 5
    assert list(annex.sites) == [s["name"] for s in lab.sites[:3]] and annex.aps_per_site == 6
    models = (city, c9k, annex)
    for n, a in enumerate(models):
        for b in models[n + 1 :]:
            assert not {m for m, *_ in a.aps()} & {m for m, *_ in b.aps()}
            assert not {name for _, name, _ in a.aps()} & {name for _, name, _ in b.aps()}
            for t in (T0, T0 + 600):
                ca, cb = a.clients(t), b.clients(t)
                assert not {c["mac"] for c in ca} & {c["mac"] for c in cb}
                assert not {c["user"] for c in ca if c["user"]} & {c["user"] for c in cb if c["user"]}
    wlcs = [d for d in inventory.load(lab.inventory_path).devices if d.role == "wlc"]
    assert sorted((d.hostname, d.port, d.snmp_profile, d.ssh_port) for d in wlcs) == sorted(
        [("wlc-city", lab.wlc_port, "lab-wlc-city", 22), ("wlc-9800", lab.wlc_9800_port, "lab-wlc-9800", 22),
         ("wlc-annex", 161, None, lab.wlc_annex_port)]  # SSH only: no SNMP profile, its CLI's port
    )  # fmt: skip
    assert len({lab.wlc_port, lab.wlc_9800_port, lab.wlc_annex_port}) == 3 and lab.wlc_port_of("wlc-annex") == 0


def test_both_lab_snmp_controllers_reach_the_store_through_the_scheduler(tmp_path):
    # wlc-annex, read over SSH: tests/test_wlc_cli.py
    lab = lab_mod.build(
        tmp_path, sites=4, ports=4, legacy=False, v3=False, ssh=False, wlc_aps_per_site=6, wlc_people=900,
        wlc_ssh=False,
    )  # fmt: skip
    inv = inventory.load(lab.inventory_path)
    store = Store(tmp_path / "n.db")
    store.import_inventory(Inventory(sites=inv.sites, devices=[d for d in inv.devices if d.role == "wlc"]))
    secrets = netmon_secrets.load(lab.secrets_path)
    cfg = Config(
        db=tmp_path / "n.db",
        interval=60,
        optics_interval=0,
        hardware_interval=0,
        topology_interval=0,
        snmp=SnmpSettings(timeout=2.0, retries=1),
    )
    with lab_mod.WlcDevice(lab):
        results = asyncio.run(poll_all(Poller(cfg, secrets), store, store.devices()))
    assert {r.device.hostname: r.errors for r in results} == {"wlc-city": [], "wlc-9800": []}
    assert {r.device.hostname: r.wlc.profile for r in results} == {"wlc-city": "aireos", "wlc-9800": "c9800"}
    models = {m.hostname: m for m in lab.wlc_models()}
    aps = store.access_points()
    for name, model in models.items():
        mine = [a for a in aps if a["controller"] == name]
        assert len(mine) == len(model.aps())
        assert {a["site"] for a in mine} == set(model.sites)  # placed by the site name in the AP's name
    assert {a["model"] for a in aps if a["controller"] == "wlc-9800"} <= {"C9120AXI-E", "C9130AXI-E", "CW9166I-ROW"}
    sessions = store.conn.execute(
        "SELECT d.hostname, count(*), sum(s.eduroam), count(DISTINCT s.realm) FROM wifi_sessions s "
        "JOIN devices d ON d.id = s.controller_id GROUP BY d.hostname"
    ).fetchall()
    got = {row[0]: tuple(row[1:]) for row in sessions}
    assert set(got) == {"wlc-city", "wlc-9800"}
    for name, (count, edu, realms) in got.items():
        assert count > 50 and edu > 0 and realms >= 3, (name, count, edu, realms)
    realms = {r[0] for r in store.conn.execute("SELECT DISTINCT realm FROM wifi_sessions WHERE eduroam = 1")}
    assert realms <= set(REALMS)
    samples = {r["controller"] for r in store.latest_wifi_samples()}
    assert samples == {"wlc-city", "wlc-9800"}
    store.close()
    # Nothing personal from either controller in the database.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*")).lower()
    for model in models.values():
        for t in (results[0].started - model.slot, results[0].started, results[0].started + model.slot):
            for c in model.clients(t):
                hexmac = bytes(c["mac"]).hex()
                assert hexmac.encode() not in raw
                assert ":".join(hexmac[i : i + 2] for i in range(0, 12, 2)).encode() not in raw
                assert not c["user"] or c["user"].encode() not in raw
