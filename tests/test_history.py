"""The lab city's synthetic past: realistic shape, only pseudonyms, and `netmon demo --history`."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import inventory
from netmon import lab as lab_mod
from netmon import secrets as secrets_mod
from netmon import usage
from netmon.lab import history
from netmon.lab.wlc_agent import lab_mac
from netmon.store import Store
from tests.conftest import run_netmon

UTC = ZoneInfo("UTC")


def test_history_has_the_city_shape_and_only_pseudonyms(tmp_path):
    lab = lab_mod.build(tmp_path / "lab", sites=4, ports=8, wlc_aps_per_site=6, wlc_people=300)
    secrets = secrets_mod.load(lab.secrets_path)
    store = Store(lab.db_path)
    store.import_inventory(
        inventory.load(lab.inventory_path, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
    )
    last = date(2026, 2, 1)  # a Sunday; 28 days of term time
    now = datetime(2026, 2, 2, 12, tzinfo=UTC).timestamp()
    made = history.synthesise(store, lab, 28, UTC, secrets.privacy, last=last, users_per_day=800, now=now)
    assert made.first == date(2026, 1, 5) and made.sessions > 28 * 500
    store.rebuild_usage(made.first, made.last, UTC, now=now)
    per_day = dict(store.conn.execute("SELECT day, sum(clients) FROM usage_site_daily GROUP BY day").fetchall())
    weekdays = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() < 5]
    weekends = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() >= 5]
    assert 600 < sum(weekdays) / len(weekdays) < 1100
    assert sum(weekends) / len(weekends) < 0.9 * sum(weekdays) / len(weekdays)
    realms = {r[0] for r in store.conn.execute("SELECT DISTINCT realm FROM usage_daily_realm")}
    assert len(realms) >= 4 and usage.UNKNOWN_REALM not in realms
    edu = store.conn.execute("SELECT sum(eduroam_sessions) * 1.0 / sum(sessions) FROM usage_daily").fetchone()[0]
    assert 0.08 < edu < 0.3
    sites = Counter(r[0] for r in store.conn.execute("SELECT site FROM usage_site_daily"))
    assert set(sites) == {s["name"] for s in lab.sites}
    hours = Counter(dict(store.conn.execute("SELECT hour, sum(clients) FROM usage_hourly GROUP BY hour").fetchall()))
    assert hours[3] < hours[15] / 5  # nights are quiet
    ends = store.conn.execute("SELECT max(end), min(end - start) FROM wifi_sessions").fetchone()
    assert ends[0] < now and ends[1] > 0
    store.close()
    # only pseudonyms: no simulated MAC or user name in the database file
    raw = b"".join(p.read_bytes() for p in lab.root.glob("netmon.db*"))
    for p in (0, 1, 7, 299):
        mac = ":".join(f"{b:02x}" for b in lab_mac(0xC0, p))
        assert mac.encode() not in raw and f"person{p:05d}".encode() not in raw


def test_school_holidays_and_terms():
    assert history.school_holiday(date(2026, 7, 15)) and history.school_holiday(date(2026, 12, 28))
    assert not history.school_holiday(date(2026, 10, 6))
    assert history.university_term(date(2026, 10, 6)) and not history.university_term(date(2026, 7, 15))


def test_demo_history_command(tmp_path):
    root = tmp_path / "lab"
    r = run_netmon("demo", "--dir", str(root), "--sites", "3", "--history", "2", "--no-run", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Wi-Fi sessions over 2 days" in r.stderr and "report wifi --from" in r.stderr
    conn = sqlite3.connect(root / "netmon.db")
    assert conn.execute("SELECT count(*) FROM usage_days").fetchone()[0] == 2
    assert conn.execute("SELECT sum(sessions) FROM usage_daily").fetchone()[0] > 1000
    r = run_netmon("demo", "--dir", str(tmp_path / "x"), "--history", "0", "--no-run")
    assert r.returncode == 0
    r = run_netmon("demo", "--dir", str(tmp_path / "y"), "--history", "-5", "--no-run")
    assert r.returncode == 2 and "--history" in r.stderr
