"""The explicit AP-to-site mapping file: FILE:LINE errors, all or nothing, and it wins over every rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.observations import AccessPoint, WlcResult
from inventory.ap_sites import parse
from inventory.yaml_file import InventoryError
from tests.conftest import run_netmon
from tests.test_wifi import APS, SETTINGS, P, setup

SITES = {"library", "arena"}


def test_names_and_macs_in_any_spelling_with_a_header_and_comments():
    m = parse(
        "# AP placements\nap,site\nAP-Odd-7 , arena\n0011.2200.0001,arena\n00-11-22-00-00-02,library\n", "m.csv", SITES
    )
    assert m.by_name == {"ap-odd-7": "arena"}
    assert m.by_mac == {"00:11:22:00:00:01": "arena", "00:11:22:00:00:02": "library"}
    assert m.site_for("00:11:22:00:00:01", "whatever") == "arena"
    assert m.site_for("ff:ff:ff:ff:ff:ff", "ap-odd-7") == "arena"
    assert m.site_for("not a mac", "nobody") is None


def test_every_bad_line_is_named_and_nothing_is_returned():
    text = "ap,site\nap-1,library\nap-2,atlantis\nap-3\nAP-1,arena\n,library\n"
    with pytest.raises(InventoryError) as exc:
        parse(text, "aps.csv", SITES)
    assert exc.value.problems == [
        "aps.csv:3: unknown site 'atlantis'",
        "aps.csv:4: expected two columns, ap,site",
        "aps.csv:5: 'AP-1' is already mapped on line 2",
        "aps.csv:6: expected two columns, ap,site",
    ]


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ".", ""]), st.booleans())
def test_a_mac_in_any_usual_spelling_maps_the_same_ap(raw, sep, upper):
    hexed = raw.hex()
    if sep == ".":
        spelled = ".".join(hexed[i : i + 4] for i in range(0, 12, 4))
    else:
        spelled = sep.join(hexed[i : i + 2] for i in range(0, 12, 2))
    m = parse(f"{spelled.upper() if upper else spelled},arena\n", "m.csv", SITES)
    assert m.site_for(":".join(hexed[i : i + 2] for i in range(0, 12, 2)), "") == "arena"


def test_the_mapping_wins_over_rules_moves_known_aps_and_a_bad_file_changes_nothing(tmp_path):
    store, wlc, site_of, _ids = setup(tmp_path)
    store.record_wlc(wlc, 0, WlcResult("aireos", "x", APS, (), (), ()), P, SETTINGS, site_of)
    store.close()
    mapping = tmp_path / "aps.csv"
    mapping.write_text(f"ap,site\nap-library-2,arena\n{APS[2].mac.upper()},library\n")
    db = str(tmp_path / "n.db")
    r = run_netmon("--db", db, "inventory", "ap-sites", str(mapping))
    assert r.returncode == 0, r.stderr
    assert "2 known APs placed" in r.stdout

    def placed(store):
        return {a["name"]: a["site"] for a in store.access_points()}

    from netmon.store import Store

    store = Store(tmp_path / "n.db")
    want = {"ap-library-1": "library", "ap-library-2": "arena", "ap-arena-1": "library"}
    assert placed(store) == want
    # The next poll places APs by the mapping first, then by the rules.
    store.record_wlc(wlc, 60, WlcResult("aireos", "x", APS, (), (), ()), P, SETTINGS, site_of)
    assert placed(store) == want
    store.close()

    mapping.write_text("ap,site\nap-library-1,arena\nap-library-2,atlantis\n")
    r = run_netmon("--db", db, "inventory", "ap-sites", str(mapping))
    assert r.returncode == 2 and f"{mapping}:3: unknown site 'atlantis'" in r.stderr
    store = Store(tmp_path / "n.db")
    assert placed(store) == want  # nothing changed
    n = store.conn.execute("SELECT count(*) FROM ap_site_map").fetchone()[0]
    assert n == 2
    # An empty mapping hands placement back to the rules at the next poll.
    store.close()
    mapping.write_text("ap,site\n")
    assert run_netmon("--db", db, "inventory", "ap-sites", str(mapping)).returncode == 0
    store = Store(tmp_path / "n.db")
    store.record_wlc(wlc, 120, WlcResult("aireos", "x", APS, (), (), ()), P, SETTINGS, site_of)
    assert placed(store) == {"ap-library-1": "library", "ap-library-2": "library", "ap-arena-1": "arena"}


def test_check_only_validates(tmp_path):
    store, *_ = setup(tmp_path)
    store.close()
    mapping = tmp_path / "aps.csv"
    mapping.write_text("ap-9,arena\n")
    r = run_netmon("--db", str(tmp_path / "n.db"), "inventory", "ap-sites", "--check", str(mapping))
    assert r.returncode == 0 and "1 access points mapped" in r.stdout
    from netmon.store import Store

    assert Store(tmp_path / "n.db").conn.execute("SELECT count(*) FROM ap_site_map").fetchone()[0] == 0


def test_unreadable_file_is_a_clear_error(tmp_path):
    store, *_ = setup(tmp_path)
    store.close()
    r = run_netmon("--db", str(tmp_path / "n.db"), "inventory", "ap-sites", str(tmp_path / "missing.csv"))
    assert r.returncode == 2 and "missing.csv: cannot read" in r.stderr and "Traceback" not in r.stderr
    _ = AccessPoint  # the observation type the mapping applies to


def test_a_mac_mapping_and_radius_find_an_ssh_read_aireos_ap_by_its_radio_mac(tmp_path):
    """AireOS's show ap summary prints the Ethernet MAC; the SSH collector keys by the base radio MAC the
    mapping file and RADIUS's Called-Station-Id name, so both find the AP (and its site)."""
    from collectors.wlc import cli as wlc_cli
    from netmon.lab import wlc_cli as wlc_cli_sim
    from netmon.store.radius import _site

    radio_mac = "00:3a:a0:00:00:07"
    ap = wlc_cli_sim.SimAp(
        radio_mac,
        "ap-odd-7",
        "",
        "AIR-AP3802I-E-K9",
        "",
        "127.0.0.7",
        True,
        0,
        (wlc_cli_sim.SimRadio(0, 1, 6, 1, True),),
    )
    snap = wlc_cli_sim.Snapshot("1.3.6.1.4.1.9.1.1279", "AIR-CT5520-K9", [ap], {1: "CityWiFi"}, 0, 60)
    kinds = {command: kind for kind, command in wlc_cli.COMMANDS["cisco_wlc_ssh"]}
    outputs = {kinds[c]: text for c, text in wlc_cli_sim.aireos_outputs(snap, "wlc-1").items()}
    assert wlc_cli_sim._ethernet_mac(radio_mac) in outputs["aps"] and radio_mac not in outputs["aps"]
    result = wlc_cli.assemble("cisco_wlc_ssh", outputs)
    store, wlc, site_of, ids = setup(tmp_path)
    store.import_ap_sites(parse(f"ap,site\n{radio_mac.replace(':', '-').upper()},arena\n", "m.csv", SITES))
    store.record_wlc(wlc, 0, result.wlc, P, SETTINGS, site_of)
    assert [(a["mac"], a["site"]) for a in store.access_points()] == [(radio_mac, "arena")]
    assert _site(store.conn, radio_mac) == ids["arena"]
    store.close()
