"""Inventory YAML: every bad line is reported as FILE:LINE, exit 2, and the database is unchanged."""

from __future__ import annotations

import os
import sqlite3
import textwrap

import pytest

import inventory
from netmon.store import Store
from tests.conftest import run_netmon

GOOD = """\
sites:
  - name: central-library
    kind: library
    address: 1 Library Square
    lat: 45.42
    lon: -75.69
  - name: fire-03
    kind: fire-station
devices:
  - hostname: sw-central-library
    address: 127.0.0.11
    site: central-library
    role: switch
    snmp: lab
  - hostname: wlc-01
    address: "::1"
    site: fire-03
    role: wlc
    snmp: lab
    ssh: noc
    port: 1161
    interval: 30
    platform: cisco_ios
"""

SECRETS = """\
snmp:
  lab: {version: 2c, community: public}
ssh:
  noc: {username: netmon, password: hunter2hunter2}
"""


@pytest.fixture
def files(tmp_path):
    inv = tmp_path / "inventory.yml"
    inv.write_text(GOOD)
    sec = tmp_path / "secrets.yml"
    sec.write_text(SECRETS)
    os.chmod(sec, 0o600)
    return tmp_path, inv, sec


def test_load_good(files):
    _, inv, _ = files
    loaded = inventory.load(inv, snmp_profiles={"lab"}, ssh_profiles={"noc"})
    assert [s.name for s in loaded.sites] == ["central-library", "fire-03"]
    wlc = loaded.devices[1]
    assert (wlc.address, wlc.port, wlc.interval, wlc.ssh_profile) == ("::1", 1161, 30, "noc")
    assert loaded.sites[0].lat == 45.42


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("site: fire-03", "site: fire-04"), 17, "unknown site 'fire-04'"),
        (("hostname: wlc-01", "hostname: SW-Central-Library"), 15, "duplicate hostname 'SW-Central-Library'"),
        (("address: 127.0.0.11", "address: 127.0.0.300"), 11, "bad management address '127.0.0.300'"),
        (("snmp: lab\n    ssh", "snmp: labx\n    ssh"), 19, "unknown SNMP credential profile 'labx'"),
        (("ssh: noc", "ssh: nocx"), 20, "unknown SSH credential profile 'nocx'"),
        (("role: wlc", "role: firewall"), 18, "bad role 'firewall'"),
        (("lat: 45.42", "lat: 145.42"), 5, "'lat' must be a number from -90 to 90"),
        (("port: 1161", "port: 70000"), 21, "'port' must be a whole number from 1 to 65535"),
        (("interval: 30", "intervall: 30"), 22, "unknown device field 'intervall'"),
        (("  - name: fire-03", "  - name: central-library"), 7, "duplicate site 'central-library'"),
        (("    role: wlc\n", "    role: wlc\n    role: switch\n"), 19, "bad YAML: duplicate key 'role'"),
        (("kind: fire-station", "kind: [fire"), 9, "bad YAML"),
        (("    platform: cisco_ios\n", ""), 20, "an SSH profile needs a 'platform'"),
        (("platform: cisco_ios", "platform: cisco_toaster"), 23, "unknown platform 'cisco_toaster'"),
    ],
)
def test_each_bad_line_is_named(files, edit, line, message):
    _, inv, _ = files
    inv.write_text(GOOD.replace(*edit, 1))
    with pytest.raises(inventory.InventoryError) as err:
        inventory.load(inv, snmp_profiles={"lab"}, ssh_profiles={"noc"})
    assert any(p.startswith(f"{inv}:{line}: ") and message in p for p in err.value.problems), err.value.problems


def test_all_problems_reported_at_once(files):
    _, inv, _ = files
    inv.write_text(GOOD.replace("site: fire-03", "site: nowhere").replace("role: switch", "role: toaster"))
    with pytest.raises(inventory.InventoryError) as err:
        inventory.load(inv)
    assert len(err.value.problems) == 2


def test_missing_required_field(files):
    _, inv, _ = files
    inv.write_text(GOOD.replace("    address: 127.0.0.11\n", ""))
    with pytest.raises(inventory.InventoryError) as err:
        inventory.load(inv)
    assert err.value.problems == [f"{inv}:10: device is missing 'address'"]


def _dump(db):
    conn = sqlite3.connect(db)
    try:
        return [list(conn.execute(f"SELECT * FROM {t} ORDER BY 1")) for t in ("sites", "devices")]
    finally:
        conn.close()


def test_cli_import_validate_list_and_bad_import_changes_nothing(files):
    tmp, inv, sec = files
    db = tmp / "netmon.db"
    common = ["--db", str(db), "--secrets", str(sec)]
    r = run_netmon(*common, "inventory", "validate", str(inv))
    assert r.returncode == 0, r.stderr
    assert "2 sites, 2 devices" in r.stdout
    r = run_netmon(*common, "inventory", "import", str(inv))
    assert r.returncode == 0, r.stderr
    before = _dump(db)

    bad = tmp / "bad.yml"
    bad.write_text(GOOD.replace("wlc-01", "wlc-02").replace("site: fire-03", "site: fire-99"))
    r = run_netmon(*common, "inventory", "import", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip() == f"netmon: {bad}:17: unknown site 'fire-99'"
    assert _dump(db) == before

    r = run_netmon(*common, "inventory", "validate", str(bad))
    assert r.returncode == 2 and f"{bad}:17:" in r.stderr

    r = run_netmon(*common, "inventory", "list")
    assert r.returncode == 0
    assert "central-library" in r.stdout and "wlc-01" in r.stdout and "fire-station" in r.stdout
    # credentials never reach the database
    raw = db.read_bytes() + (db.with_suffix(".db-wal").read_bytes() if db.with_suffix(".db-wal").exists() else b"")
    assert b"public" not in raw and b"hunter2" not in raw


def test_reimport_keeps_ids_and_removes_only_with_prune(files):
    tmp, inv, _ = files
    store = Store(tmp / "n.db")
    store.import_inventory(inventory.load(inv))
    ids = {d.hostname: d.id for d in store.devices()}
    generation = store.inventory_generation()
    smaller = (
        textwrap.dedent(GOOD)
        .split("  - hostname: wlc-01")[0]
        .replace("  - name: fire-03\n    kind: fire-station\n", "")
    )
    inv.write_text(smaller)
    counts = store.import_inventory(inventory.load(inv))
    assert (counts["removed_devices"], counts["kept_undeclared_devices"]) == (0, 1)
    assert {d.hostname: d.id for d in store.devices()} == ids
    counts = store.import_inventory(inventory.load(inv), prune=True)
    assert counts["removed_devices"] == 1 and counts["removed_sites"] == 1
    assert {d.hostname: d.id for d in store.devices()} == {"sw-central-library": ids["sw-central-library"]}
    assert store.inventory_generation() == generation + 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "1: the inventory must be a mapping"),
        ("# all commented out\n", "1: the inventory must be a mapping"),
        ("sites: []\n", "1: no 'devices' list"),
        ("sites: []\ndevices: []\n? [a, b]\n: 1\n", "3: bad YAML: a key must be plain text"),
        ("sites: []\ndevices: []\n__line__: 3\n", "3: bad YAML: '__line__' is a reserved key"),
    ],
)
def test_empty_or_odd_files_are_refused(tmp_path, text, message):
    path = tmp_path / "inv.yml"
    path.write_text(text)
    with pytest.raises(inventory.InventoryError) as err:
        inventory.load(path)
    assert any(
        p.startswith(f"{path}:{message.split(':')[0]}:") and message.split(": ", 1)[1] in p for p in err.value.problems
    )


def test_yaml_anchors_and_merge_keys_work(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text(
        "sites: [{name: hall, kind: city-hall}]\n"
        "devices:\n"
        "  - &sw {hostname: sw1, address: 127.0.0.1, role: switch, snmp: lab, site: hall}\n"
        "  - <<: *sw\n"
        "    hostname: sw2\n"
        "    address: 127.0.0.2\n"
    )
    loaded = inventory.load(path, snmp_profiles={"lab"})
    assert [(d.hostname, d.address, d.role, d.site) for d in loaded.devices] == [
        ("sw1", "127.0.0.1", "switch", "hall"),
        ("sw2", "127.0.0.2", "switch", "hall"),
    ]


def test_cli_without_secrets_refuses_profiles(files):
    tmp, inv, _ = files
    r = run_netmon("--db", str(tmp / "n.db"), "inventory", "validate", str(inv), env={"NETMON_SECRETS": ""})
    assert r.returncode == 2
    assert "unknown SNMP credential profile 'lab'" in r.stderr and "no secrets file configured" in r.stderr


def test_failed_import_mid_transaction_rolls_back(files, monkeypatch):
    tmp, inv, _ = files
    store = Store(tmp / "n.db")
    store.import_inventory(inventory.load(inv))
    before = _dump(tmp / "n.db")
    grown = inventory.load(inv)
    grown.devices.append(
        grown.devices[0].__class__(hostname="sw-new", address="127.0.0.9", site="nowhere", role="switch")
    )
    with pytest.raises(KeyError):
        store.import_inventory(grown)  # the unknown site fails after other rows were written
    assert _dump(tmp / "n.db") == before


def test_fibre_links_are_validated_and_stored(files):
    tmp, inv, _ = files
    inv.write_text(
        GOOD
        + "links:\n"
        + "  - {a: sw-central-library, a_port: Te1/1/1, b: wlc-01, b_port: Te0/1, length_km: 3.4}\n"
        + "  - {a: sw-central-library, a_port: Te1/1/1, b: nowhere, b_port: Te0/2, length_km: -1}\n"
    )
    with pytest.raises(inventory.InventoryError) as err:
        inventory.load(inv)
    assert sorted(p.split(": ", 1)[1] for p in err.value.problems) == [
        "'length_km' must be a number of kilometres, got -1",
        "port sw-central-library Te1/1/1 already has a link (line 25)",
        "unknown device 'nowhere'",
    ]
    assert all(p.startswith(f"{inv}:26:") for p in err.value.problems)
    inv.write_text(
        GOOD + "links:\n  - {a: sw-central-library, a_port: Te1/1/1, b: wlc-01, b_port: Te0/1, length_km: 3.4}\n"
    )
    loaded = inventory.load(inv)
    assert [(f.a, f.b, f.length_km) for f in loaded.links] == [("sw-central-library", "wlc-01", 3.4)]
    store = Store(tmp / "n.db")
    store.import_inventory(loaded)
    assert store.conn.execute("SELECT length_km FROM fibre_links").fetchall()[0][0] == 3.4
