"""Wi-Fi sessions in the store: open, extend, roam, close; eduroam realms; never a raw MAC or user name."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.observations import AccessPoint, Client, Wlan, WlcResult
from inventory.ap_sites import site_rules
from inventory.model import Device, Inventory, Site
from netmon.privacy import Pseudonymizer
from netmon.store import Store
from netmon.store.wifi import WifiSettings, accumulate

P = Pseudonymizer(b"test-pseudonym-key-0123456789")
SETTINGS = WifiSettings(interval=60, grace=120)
APS = (
    AccessPoint("00:11:22:00:00:01", "ap-library-1", status="up"),
    AccessPoint("00:11:22:00:00:02", "ap-library-2", status="up"),
    AccessPoint("00:11:22:00:00:03", "ap-arena-1", status="up"),
)
ALICE, BOB = "a4:83:e7:11:22:33", "f0:18:98:aa:bb:cc"


def client(mac, ap, ssid="CityWiFi", user="", rx=0, tx=0):
    return Client(mac, ap, ssid, None, "802.11ax", -60, 30, rx, tx, "associated", user)


def setup(tmp_path):
    store = Store(tmp_path / "n.db")
    store.import_inventory(
        Inventory(
            sites=[Site("library", "library"), Site("arena", "arena")],
            devices=[Device("wlc-1", "127.0.0.1", "library", "wlc", "p")],
        )
    )
    ids = {r[0]: r[1] for r in store.conn.execute("SELECT name, id FROM sites")}
    site_of = site_rules([{"prefix": "ap-library-", "site": "library"}, {"prefix": "ap-arena-", "site": "arena"}], ids)
    return store, store.devices()[0], site_of, ids


def poll(store, wlc, site_of, at, *clients):
    return store.record_wlc(
        wlc, at, WlcResult("aireos", "AIR-CT5520", APS, (), (), tuple(clients)), P, SETTINGS, site_of
    )


def sessions(store):
    return [dict(r) for r in store.conn.execute("SELECT * FROM wifi_sessions ORDER BY id")]


def test_session_lifecycle_roaming_and_privacy(tmp_path):
    store, wlc, site_of, sites = setup(tmp_path)
    assert poll(store, wlc, site_of, 0, client(ALICE, APS[0].mac, rx=100), client(BOB, APS[0].mac)) == {
        "opened": 2, "extended": 0, "closed": 0,
    }  # fmt: skip
    # Alice roams to another AP of the same site: the same session goes on.
    assert poll(store, wlc, site_of, 60, client(ALICE, APS[1].mac, rx=500))["extended"] == 1
    # Bob missed one poll: within interval + grace, still open. Alice's counter went down: she
    # re-associated, her controller counters restarted from zero, and all 400 bytes are new.
    poll(store, wlc, site_of, 120, client(ALICE, APS[1].mac, rx=400), client(BOB, APS[0].mac, tx=9))
    rows = sessions(store)
    assert len(rows) == 2 and all(r["end"] is None for r in rows)
    alice = rows[0]
    assert alice["ap_mac"] == APS[1].mac and alice["bytes_rx"] == 900 and alice["site_id"] == sites["library"]
    # Alice walks to the arena: a new visit at a new site; Bob goes quiet.
    poll(store, wlc, site_of, 180, client(ALICE, APS[2].mac))
    poll(store, wlc, site_of, 400, client(ALICE, APS[2].mac))
    rows = sessions(store)
    assert [(r["site_id"], r["start"], r["last_seen"], r["end"]) for r in rows] == [
        (sites["library"], 0, 120, 120),  # Alice at the library, ended when she left
        (sites["library"], 0, 120, 120),  # Bob: last seen at 120, absent longer than 60 + 120 s
        (sites["arena"], 180, 400, None),
    ]
    samples = store.conn.execute(
        "SELECT ap_mac, ssid, clients FROM wifi_samples WHERE ts = 0 AND ssid != ''"
    ).fetchall()
    assert [tuple(s) for s in samples] == [(APS[0].mac, "CityWiFi", 2)]
    # No raw MAC ever reaches the database (the APs' own MACs are infrastructure, not residents).
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*"))
    for secret in (ALICE, BOB, ALICE.replace(":", ""), BOB.upper()):
        assert secret.encode() not in raw


def test_eduroam_sessions_carry_the_realm_not_the_user(tmp_path):
    store, wlc, site_of, _ = setup(tmp_path)
    poll(store, wlc, site_of, 0, client(ALICE, APS[0].mac, ssid="eduroam", user="alice.smith@uni.example"))
    poll(store, wlc, site_of, 0.5, client(BOB, APS[0].mac, ssid="CityWiFi", user="bob@isp.example"))
    rows = sessions(store)
    assert [(r["eduroam"], r["realm"]) for r in rows] == [(1, "uni.example"), (0, None)]
    assert rows[0]["user"] == P.user("alice.smith@uni.example") and rows[0]["client"] == P.mac(ALICE)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*"))
    assert b"alice.smith" not in raw and b"bob@isp" not in raw


def test_controller_without_client_table_still_counts_per_ssid(tmp_path):
    store, wlc, site_of, _ = setup(tmp_path)
    result = WlcResult("aireos", "CBW240AC", APS[:1], (), (Wlan("CityWiFi", 1, 23), Wlan("MGMT", 2, 0)), ())
    store.record_wlc(wlc, 0, result, P, SETTINGS, site_of)
    assert [
        tuple(r) for r in store.conn.execute("SELECT ap_mac, ssid, clients FROM wifi_samples WHERE ssid != ''")
    ] == [("", "CityWiFi", 23)]
    assert sessions(store) == []


def test_controller_poll_end_to_end_keeps_residents_out_of_db_and_metrics(tmp_path):
    """A real poll of a simulated AireOS controller: APs at their sites, clients counted, nothing personal kept."""
    import asyncio

    from collectors.credentials import SnmpV2cCredentials
    from exporters.prometheus import exposition
    from netmon import lab as lab_mod
    from netmon.config import Config
    from netmon.poller import Poller
    from netmon.scheduler import poll_all
    from netmon.secrets import Secrets
    from tests.test_wlc import AIREOS_CLIENTS, _oid_key, aireos_records

    data = tmp_path / "data"
    data.mkdir()
    (data / "wlc-aireos.snmprec").write_text("\n".join(sorted(aireos_records(), key=_oid_key)) + "\n")
    with lab_mod.Simulator(data, lab_mod.free_udp_port(), tmp_path, v3_users=[]) as sim:
        store = Store(tmp_path / "n.db")
        store.import_inventory(
            Inventory(
                sites=[Site("library", "library"), Site("arena", "arena")],
                devices=[Device("wlc-aireos", "127.0.0.1", "library", "wlc", "p", port=sim.port)],
            )
        )
        secrets = Secrets(snmp={"p": SnmpV2cCredentials("p", "wlc-aireos")}, privacy=P)
        cfg = Config(db=tmp_path / "n.db", optics_interval=0, hardware_interval=0, topology_interval=0)
        results = asyncio.run(poll_all(Poller(cfg, secrets), store, store.devices()))
    assert results[0].wlc is not None and not results[0].errors, results[0].errors
    aps = {a["name"]: (a["site"], a["status"]) for a in store.access_points()}
    assert aps["ap-library-1"][0] == "library" and aps["ap-arena-1"][0] == "arena"
    edu = [dict(r) for r in store.conn.execute("SELECT realm FROM wifi_sessions WHERE eduroam = 1 ORDER BY realm")]
    assert [r["realm"] for r in edu] == ["city.example", "college.example", "uni.example", "uni.example"]
    exposition = exposition(tmp_path / "n.db", process_metrics=False)
    assert 'netmon_wifi_ssid_clients{controller="wlc-aireos",ssid="eduroam"} 4.0' in exposition
    assert "netmon_wifi_radio_channel{" in exposition and 'radio="1"' in exposition
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*")) + exposition.encode()
    for mac, user, *_ in AIREOS_CLIENTS:
        assert mac.encode() not in raw and mac.replace(":", "").encode() not in raw
        if user:
            assert user.encode() not in raw and user.split("@")[0].encode() not in raw


def test_ap_site_rules_in_order_then_the_name_default():
    import pytest

    sites = {"central-library": 1, "arena-west": 2, "city-hall": 3}
    site_of = site_rules(
        [
            {"name": "odd-ap-7", "site": "city-hall"},
            {"prefix": "lib-", "site": "central-library"},
            {"location": "West Arena", "site": "arena-west"},
        ],
        sites,
    )
    assert site_of(AccessPoint("00:00:00:00:00:01", "odd-ap-7")) == 3
    assert site_of(AccessPoint("00:00:00:00:00:02", "LIB-2F-03")) == 1
    assert site_of(AccessPoint("00:00:00:00:00:03", "ap-9", location="West Arena, rink")) == 2
    assert site_of(AccessPoint("00:00:00:00:00:04", "ap-city-hall-1")) == 3  # the default: site name in AP name
    assert site_of(AccessPoint("00:00:00:00:00:05", "ap-nowhere")) is None
    with pytest.raises(ValueError):
        site_rules([{"prefix": "x-", "site": "atlantis"}], sites)


def test_cli_lists_unassigned_aps(tmp_path):
    from tests.conftest import run_netmon

    store, wlc, site_of, _ = setup(tmp_path)
    lost = AccessPoint("00:11:22:00:00:09", "ap-mystery", status="down")
    store.record_wlc(wlc, 0, WlcResult("aireos", "x", (*APS, lost), (), (), ()), P, SETTINGS, site_of)
    store.close()
    r = run_netmon("--db", str(tmp_path / "n.db"), "inventory", "aps", "--unassigned")
    assert r.returncode == 0, r.stderr
    assert "ap-mystery" in r.stdout and "ap-library-1" not in r.stdout
    r = run_netmon("--db", str(tmp_path / "n.db"), "inventory", "aps")
    assert "ap-library-1" in r.stdout and "library" in r.stdout


def test_empty_polls_gone_aps_and_shared_names_in_metrics(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    from exporters.prometheus import exposition

    store, wlc, site_of, _ = setup(tmp_path)
    poll(store, wlc, site_of, 0, client(ALICE, APS[0].mac))
    twin = AccessPoint("00:11:22:00:00:0a", "ap-library-1", status="up")  # a replacement under the same name
    store.record_wlc(wlc, 60, WlcResult("aireos", "x", (*APS[1:], twin), (), (), ()), P, SETTINGS, site_of)
    families = {f.name: f for f in text_string_to_metric_families(exposition(tmp_path / "n.db", False))}
    aps = {s.labels["ap"]: s.value for s in families["netmon_wifi_ap_up"].samples}
    assert aps == {"ap-library-1": 1.0, "ap-library-2": 1.0, "ap-arena-1": 1.0}  # the old ap-library-1 is gone
    clients = [s.value for s in families["netmon_wifi_ssid_clients"].samples]
    assert clients == []  # the last poll saw nobody: no stale count from the poll before


def test_a_wifi_store_failure_does_not_make_the_controller_unknown(tmp_path):

    from collectors.observations import Observations
    from netmon.config import Config
    from netmon.poller import DevicePoll
    from netmon.recorder import Recorder

    store, wlc, _, _ = setup(tmp_path)
    store.record_poll(wlc, 0.0, None, None, [])
    bad_rules = Config(ap_site_rules=({"prefix": "ap-", "site": "atlantis"},))
    result = DevicePoll(device=wlc, started=0.0, observed=Observations(wlc=WlcResult("aireos", "x", APS, (), (), ())))
    Recorder(store, bad_rules, P).wifi(result)
    assert store.device_states()[0]["last_error_reason"] != "store"
    assert {"collector": "wlc", "reason": "store", "count": 1} in store.collector_error_counts()


# One association: the counter readings of its polls, non-decreasing from wherever the first poll caught it.
_association = st.lists(st.integers(0, 10**12), min_size=1, max_size=5).map(sorted)


def _with_resets(associations: list[list[int]]) -> list[list[int]]:
    """Keep the associations whose first reading is below the last one before: a reset a poller can see.

    (A counter that restarted and grew past its old value between two polls looks like growth: no one can tell.)"""
    out: list[list[int]] = []
    for readings in associations:
        if not out or readings[0] < out[-1][-1]:
            out.append(readings)
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(_association, min_size=1, max_size=5).map(_with_resets), st.lists(st.booleans(), max_size=30))
def test_session_bytes_add_up_over_re_associations(associations, unreported):
    """Whatever the resets: the total is the sum of each association's largest reading, and never decreases."""
    readings = [r for association in associations for r in association]
    with tempfile.TemporaryDirectory() as tmp:
        store, wlc, site_of, _ = setup(Path(tmp))
        totals = []
        for n, value in enumerate(readings):
            # a poll that did not report the counters (None) changes nothing
            if n < len(unreported) and unreported[n]:
                poll(store, wlc, site_of, 60 * n, Client(ALICE, APS[0].mac, "CityWiFi", None, "802.11ax", -60, 30,
                                                          None, None, "associated"))  # fmt: skip
            poll(store, wlc, site_of, 60 * n + 30, client(ALICE, APS[0].mac, rx=value, tx=2 * value))
            (row,) = sessions(store)
            totals.append((row["bytes_rx"], row["bytes_tx"]))
        store.close()
    expected = sum(max(a) for a in associations)
    assert totals[-1] == (expected, 2 * expected)
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(totals))


@given(st.integers(0, 10**15), st.integers(0, 10**12), st.none() | st.integers(0, 10**12))
def test_accumulate_adds_growth_and_a_reset_counts_whole(total, last, counter):
    new_total, new_last = accumulate(total, last, counter)
    if counter is None:
        assert (new_total, new_last) == (total, last)
    else:
        assert new_last == counter
        assert new_total == total + (counter - last if counter >= last else counter) >= total
