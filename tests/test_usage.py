"""Daily usage aggregation, the RADIUS merge, retention and their scheduler jobs, on hand-built sessions."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from netmon import config as config_mod
from netmon import usage
from netmon.scheduler import Scheduler
from netmon.store import Store
from netmon.store import usage as store_usage
from netmon.usage import hll
from netmon.usage.definition import aggregate_day
from tests.conftest import run_netmon

UTC = ZoneInfo("UTC")
DAY = date(2026, 5, 12)  # a Tuesday


def at(hour: float, day: date = DAY, tz: ZoneInfo = UTC) -> float:
    base = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    return base + hour * 3600


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "netmon.db")
    with s.transaction() as c:
        c.execute("INSERT INTO sites (id, name, kind) VALUES (1, 'central-library', 'library'), (2, 'arena', 'arena')")
        c.execute(
            "INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'wlc-1', '127.0.0.1', 1, 'wlc')"
        )
        c.execute(
            "INSERT INTO access_points (controller_id, mac, name, status, site_id, first_seen, last_seen) VALUES "
            "(1, '00:3a:a0:00:00:01', 'ap-lib-01', 'up', 1, 0, 0), "
            "(1, '00:3a:a0:00:00:02', 'ap-arena-01', 'up', 2, 0, 0)"
        )
    yield s
    s.close()


def add_wifi(store, client, start, end, site=1, ssid="CityWiFi", ap="00:3a:a0:00:00:01", rx=0, tx=0, realm=None,
             user=None, last_seen=None):  # fmt: skip
    with store.transaction() as c:
        c.execute(
            "INSERT INTO wifi_sessions (controller_id, client, ssid, ap_mac, site_id, start, last_seen, end, bytes_rx, "
            "bytes_tx, eduroam, realm, user) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (client, ssid, ap, site, start, last_seen if last_seen is not None else end if end is not None else start,
             end, rx, tx, int(ssid == "eduroam"), realm, user),
        )  # fmt: skip


def add_radius(store, client, start, stop, site=1, octets=(0, 0), user=None, realm=None, ssid="eduroam", key="k"):
    with store.transaction() as c:
        c.execute(
            "INSERT INTO radius_sessions (nas, session_key, user, realm, client, ap_mac, ssid, site_id, eduroam, "
            "start, last_update, stop, session_time, input_octets, output_octets, terminate_cause) "
            "VALUES ('nas-1', ?, ?, ?, ?, '00:3a:a0:00:00:01', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (key, user, realm, client, ssid, site, int(ssid == "eduroam"), start, stop or start, stop,
             int((stop or start) - start), octets[0], octets[1]),
        )  # fmt: skip


def rows(store, table, day=DAY):
    cur = store.conn.execute(f"SELECT * FROM {table} WHERE day = ? ORDER BY 1, 2, 3, 4", (day.isoformat(),))
    return [dict(r) for r in cur]


def daily(store, day=DAY):
    return {(r["site"], r["ssid"]): r for r in rows(store, "usage_daily", day)}


def test_unique_clients_sessions_hours_bytes_and_peak(store):
    add_wifi(store, "c1", at(9), at(10), rx=100, tx=50)
    add_wifi(store, "c1", at(14), at(15.5), rx=10, tx=0)  # the same client again: one unique, two sessions
    add_wifi(store, "c2", at(9.5), at(11))
    add_wifi(store, "c3", at(9.75), at(9.75))  # one poll only: a client and a session, no hours
    add_wifi(store, "c4", at(20), at(21), site=2, ap="00:3a:a0:00:00:02")
    store.rebuild_usage(DAY, DAY, UTC)
    d = daily(store)
    lib = d[("central-library", "CityWiFi")]
    assert (lib["clients"], lib["sessions"]) == (3, 4)
    assert lib["connected_hours"] == pytest.approx(1 + 1.5 + 1.5)
    assert lib["bytes"] == 160
    # at 09:45 c1, c2 and c3 are all connected
    assert (lib["peak_clients"], lib["peak_hour"]) == (3, 9)
    assert hll.estimate(hll.unpack(lib["clients_hll"])) == 3
    arena = d[("arena", "CityWiFi")]
    assert (arena["clients"], arena["sessions"], arena["peak_clients"], arena["peak_hour"]) == (1, 1, 1, 20)
    site = {r["site"]: r for r in rows(store, "usage_site_daily")}
    assert (site["central-library"]["clients"], site["central-library"]["peak_clients"]) == (3, 3)
    hourly = {(r["site"], r["hour"]): r for r in rows(store, "usage_hourly")}
    assert hourly[("central-library", 9)]["clients"] == 3
    assert hourly[("central-library", 9)]["connected_hours"] == pytest.approx(1 + 0.5)
    assert hourly[("central-library", 9)]["sessions"] == 3
    assert hourly[("central-library", 10)]["clients"] == 1  # c1's 10:00 end touches 10 o'clock only at an instant
    aps = {r["ap_name"]: r for r in rows(store, "usage_ap_daily")}
    assert aps["ap-lib-01"]["sessions"] == 4 and aps["ap-lib-01"]["peak_clients"] == 3
    assert aps["ap-arena-01"]["site"] == "arena"


def test_a_session_across_midnight_counts_once_and_splits_its_hours_and_bytes(store):
    nxt = date(2026, 5, 13)
    add_wifi(store, "c1", at(23), at(25), rx=2000)
    store.rebuild_usage(DAY, nxt, UTC)
    first, second = daily(store)[("central-library", "CityWiFi")], daily(store, nxt)[("central-library", "CityWiFi")]
    assert (first["sessions"], second["sessions"]) == (1, 0)  # counted on the day it started
    assert first["clients"] == second["clients"] == 1  # but connected on both days
    assert first["connected_hours"] == pytest.approx(1) and second["connected_hours"] == pytest.approx(1)
    assert first["bytes"] + second["bytes"] == 2000 and first["bytes"] == 1000
    assert (first["peak_hour"], second["peak_hour"]) == (23, 0)


def test_local_days_follow_the_city_time_zone_including_dst(store):
    toronto = ZoneInfo("America/Toronto")
    spring = date(2026, 3, 8)  # clocks go from 02:00 to 03:00: a 23-hour day
    lo, hi = usage.day_window(spring, toronto)
    assert hi - lo == 23 * 3600
    slots = usage.Slots.of(lo, hi, toronto)
    assert 2 not in slots.hours and len(slots.hours) == 23
    add_wifi(store, "c1", at(1.5, spring, toronto), at(3.5, spring, toronto))  # 01:30 EST .. 04:30 EDT
    add_wifi(store, "c2", at(23.5, date(2026, 3, 7), toronto), at(24.5, date(2026, 3, 7), toronto))
    store.rebuild_usage(spring, spring, toronto)
    d = daily(store, spring)[("central-library", "CityWiFi")]
    assert d["sessions"] == 1 and d["clients"] == 2
    assert d["connected_hours"] == pytest.approx(2 + 0.5)
    hours = {r["hour"] for r in rows(store, "usage_hourly", spring)}
    assert hours == {0, 1, 3, 4}


def test_eduroam_sessions_and_unique_users_per_realm(store):
    add_wifi(store, "c1", at(9), at(10), ssid="eduroam", realm="uni.example", user="u1")
    add_wifi(store, "c2", at(11), at(12), ssid="eduroam", realm="uni.example", user="u1")  # same user, other device
    add_wifi(store, "c3", at(11), at(12), ssid="eduroam", realm="college.example", user="u3")
    add_wifi(store, "c3", at(13), at(14), ssid="eduroam", realm="college.example", user="u3")
    add_wifi(store, "c4", at(13), at(14), ssid="eduroam")  # no user name seen: realm unknown, counted by client
    store.rebuild_usage(DAY, DAY, UTC)
    edu = daily(store)[("central-library", "eduroam")]
    assert (edu["eduroam_sessions"], edu["eduroam_users"], edu["clients"]) == (5, 3, 4)
    realms = {r["realm"]: (r["sessions"], r["users"]) for r in rows(store, "usage_daily_realm")}
    assert realms == {"uni.example": (2, 1), "college.example": (2, 1), usage.UNKNOWN_REALM: (1, 1)}


def test_a_site_counts_a_client_once_across_ssids_and_peaks_over_all_of_them(store):
    add_wifi(store, "c1", at(9), at(10))
    add_wifi(store, "c1", at(11), at(12), ssid="eduroam", realm="uni.example")
    add_wifi(store, "c2", at(11.5), at(12))
    store.rebuild_usage(DAY, DAY, UTC)
    site = rows(store, "usage_site_daily")[0]
    assert (site["clients"], site["peak_clients"], site["peak_hour"]) == (2, 2, 11)
    assert sum(r["clients"] for r in daily(store).values()) == 3  # per SSID, c1 is in both


def test_radius_sessions_merge_without_double_counting(store):
    # c1: the controller and RADIUS saw the same visit, RADIUS a little longer: one session, the union, max bytes
    add_wifi(store, "c1", at(9), at(10), ssid="eduroam", rx=500, tx=100, realm="uni.example", user="u1")
    add_radius(store, "c1", at(8.5), at(9.5), octets=(1000, 200), user="u1", realm="uni.example", key="a")
    # c2: RADIUS only (no controller poll saw it): counts, with RADIUS's site
    add_radius(store, "c2", at(12), at(13), site=2, octets=(10, 0), user="u2", realm="college.example", key="b")
    # c3: same client at another site at the same time: not the same visit
    add_wifi(store, "c3", at(15), at(16), ssid="eduroam", user="u3", realm="uni.example")
    add_radius(store, "c3", at(15), at(16), site=2, user="u3", realm="uni.example", key="c")
    # c4: RADIUS still open (no stop): counted up to its last update
    add_radius(store, "c4", at(17), None, user="u4", realm="uni.example", key="d")
    with store.transaction() as c:
        c.execute("UPDATE radius_sessions SET last_update = ? WHERE session_key = 'd'", (at(18),))
    store.rebuild_usage(DAY, DAY, UTC)
    d = daily(store)
    lib = d[("central-library", "eduroam")]
    assert lib["sessions"] == 3 and lib["clients"] == 3  # c1 once, c3 (controller), c4
    assert lib["connected_hours"] == pytest.approx(1.5 + 1 + 1)
    assert lib["bytes"] == 1200  # max(600, 1200) for c1, nothing for c3 and c4
    arena = d[("arena", "eduroam")]
    assert arena["sessions"] == 2 and arena["clients"] == 2  # c2 RADIUS-only and c3's RADIUS session
    realms = {(r["site"], r["realm"]): r["users"] for r in rows(store, "usage_daily_realm")}
    assert realms[("central-library", "uni.example")] == 3 and realms[("arena", "college.example")] == 1


def test_merge_rule_unit():
    rows_ = [
        ("w", "c", "eduroam", "ap1", 1, 100.0, 200.0, 10, 1, "r.example", None),
        ("r", "c", "eduroam", "ap1", None, 150.0, 300.0, 50, 1, "r.example", "u"),  # site unknown: joins
        ("r", "c", "eduroam", "ap1", 1, 400.0, 500.0, 5, 1, "r.example", "u"),  # later: a visit of its own
    ]
    visits = sorted(usage.merge_visits(rows_, {1: "lib"}), key=lambda v: v.start)
    assert [(v.start, v.end, v.bytes, v.site, v.sources) for v in visits] == [
        (100.0, 300.0, 50, "lib", "rw"),
        (400.0, 500.0, 5, "lib", "r"),
    ]


def test_rebuild_is_idempotent(store):
    for n in range(30):
        add_wifi(store, f"c{n % 7}", at(n % 20), at(n % 20 + 1.3), ssid=("CityWiFi", "eduroam")[n % 2],
                 realm="uni.example" if n % 2 else None, rx=n)  # fmt: skip
    add_radius(store, "c1", at(1), at(2), user="u", realm="uni.example")
    store.rebuild_usage(DAY, DAY, UTC)
    before = {t: rows(store, t) for t in store_usage.TABLES}
    store.rebuild_usage(DAY, DAY, UTC)
    store.rebuild_usage(DAY, DAY, UTC)
    assert {t: rows(store, t) for t in store_usage.TABLES} == before
    assert all(before.values())


intervals = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 50)).map(lambda p: (float(p[0]), float(p[0] + p[1]))),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(intervals)
def test_union_measures_the_covered_time(ivs):
    merged = usage.union(ivs)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))  # disjoint, sorted
    # on a half-unit grid: a point is covered by the union exactly when some interval covers it
    for k in range(0, 501):
        t = k / 2
        assert any(s <= t <= e for s, e in ivs) == any(s <= t <= e for s, e in merged)
    assert usage.measure(merged) <= usage.measure(ivs)


@settings(max_examples=300, deadline=None)
@given(intervals)
def test_peak_is_the_most_intervals_covering_one_instant(ivs):
    best, when = usage.peak(ivs)
    brute = max((sum(1 for s, e in ivs if s <= t <= e) for t, _ in ivs), default=0)
    assert best == brute
    if ivs:
        assert sum(1 for s, e in ivs if s <= when <= e) == best


@settings(max_examples=50, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=12), max_size=3000))
def test_hll_counts_small_sets_almost_exactly(keys):
    n = hll.estimate(hll.merge([hll.pack(hll.sketch(keys))]))
    assert abs(n - len(keys)) <= max(2, 0.03 * len(keys))


def test_hll_merges_days_without_double_counting():
    day1 = hll.sketch(f"p{i}" for i in range(0, 6000))
    day2 = hll.sketch(f"p{i}" for i in range(3000, 9000))
    n = hll.estimate(hll.merge([hll.pack(day1), hll.pack(day2)]))
    assert abs(n - 9000) / 9000 < 0.03


# -- retention ------------------------------------------------------------------


def test_retention_aggregates_then_prunes_and_keeps_open_sessions(store):
    now = at(12, date(2026, 5, 20))
    old, recent = date(2026, 5, 1), date(2026, 5, 18)
    add_wifi(store, "old-closed", at(9, old), at(10, old))
    add_wifi(store, "old-open", at(9, old), None, last_seen=at(11, date(2026, 5, 19)))
    add_wifi(store, "recent", at(9, recent), at(10, recent))
    add_radius(store, "r-old", at(9, old), at(10, old), key="x")
    add_radius(store, "r-open", at(9, old), None, key="y")
    with store.transaction() as c:
        c.execute("INSERT INTO wifi_samples VALUES (?, 1, '00:3a:a0:00:00:01', 'CityWiFi', 4)", (at(9, old),))
        c.execute("INSERT INTO wifi_samples VALUES (?, 1, '00:3a:a0:00:00:01', 'CityWiFi', 2)", (at(9, recent),))
        for ts in (at(9, old), at(9, recent)):
            c.execute("INSERT INTO fticks_events (ts, realm, result, csi) VALUES (?, 'uni.example', 'OK', 'x')", (ts,))
    assert not rows(store, "usage_daily", old)  # never aggregated: retention must do it first
    done = store.apply_retention(7, UTC, now=now)
    assert done.cutoff_day == "2026-05-13"
    assert "2026-05-01" in done.aggregated_first
    assert done.deleted == {"wifi_sessions": 1, "wifi_samples": 1, "radius_sessions": 1, "fticks_events": 1}
    assert store.conn.execute("SELECT count(*) FROM fticks_events").fetchone()[0] == 1
    left = {r[0] for r in store.conn.execute("SELECT client FROM wifi_sessions")}
    assert left == {"old-open", "recent"}
    assert {r[0] for r in store.conn.execute("SELECT client FROM radius_sessions")} == {"r-open"}
    kept = daily(store, old)
    assert kept[("central-library", "CityWiFi")]["clients"] == 2  # old-closed and old-open, aggregated in time
    assert rows(store, "usage_ap_daily", old)[0]["peak_clients"] == 4  # the controller's count from the sample
    # the pruned day is final: a rebuild must not overwrite it from the partial raw data left
    again = store.rebuild_usage(old, old, UTC, now=now)
    assert again.skipped_pruned == ["2026-05-01"]
    assert daily(store, old)[("central-library", "CityWiFi")]["clients"] == 2


def test_retention_works_without_radius_and_dry_run_changes_nothing(store):
    # A database whose RADIUS tables were never created (usage and retention must not need them).
    store.conn.execute("DROP TABLE radius_sessions")
    store.conn.execute("DROP TABLE fticks_events")
    now = at(12, date(2026, 5, 20))
    add_wifi(store, "old", at(9, date(2026, 4, 1)), at(10, date(2026, 4, 1)))
    done = store.apply_retention(7, UTC, now=now, dry_run=True)
    assert done.deleted == {"wifi_sessions": 1, "wifi_samples": 0}
    assert store.conn.execute("SELECT count(*) FROM wifi_sessions").fetchone()[0] == 1
    assert not rows(store, "usage_daily", date(2026, 4, 1))
    store.apply_retention(7, UTC, now=now)
    assert store.conn.execute("SELECT count(*) FROM wifi_sessions").fetchone()[0] == 0
    assert daily(store, date(2026, 4, 1))


# -- commands and the scheduler ----------------------------------------------------------


def test_usage_rebuild_and_retention_commands(store, tmp_path):
    add_wifi(store, "c1", at(9), at(10))
    db = str(store.path)
    r = run_netmon("--db", db, "usage", "rebuild", "--from", "2026-05-12", "--to", "2026-05-13")
    assert r.returncode == 0, r.stderr
    assert "aggregated 2 days" in r.stdout
    assert daily(store)[("central-library", "CityWiFi")]["sessions"] == 1
    r = run_netmon("--db", db, "usage", "rebuild", "--from", "2026-05-13", "--to", "2026-05-12")
    assert r.returncode == 2 and "before" in r.stderr and "Traceback" not in r.stderr
    r = run_netmon("--db", db, "usage", "rebuild", "--from", "12/05/2026", "--to", "2026-05-12")
    assert r.returncode == 2 and "not a date" in r.stderr
    r = run_netmon("--db", db, "db", "retention", "--days", "3")
    assert r.returncode == 0, r.stderr
    assert "deleted 1 wifi_sessions" in r.stdout
    assert daily(store)[("central-library", "CityWiFi")]["sessions"] == 1


def test_config_timezone_and_retention(tmp_path):
    (tmp_path / "netmon.yml").write_text("timezone: America/Toronto\nretention_days: 30\ncapacity_peak_clients: 12\n")
    cfg = config_mod.load(tmp_path / "netmon.yml", environ={})
    assert cfg.zone().key == "America/Toronto" and cfg.retention_days == 30 and cfg.capacity_peak_clients == 12
    (tmp_path / "bad.yml").write_text("timezone: Mars/Olympus\n")
    with pytest.raises(config_mod.ConfigError, match="time zone"):
        config_mod.load(tmp_path / "bad.yml", environ={})
    assert config_mod.load(None, environ={}).retention_days == 90


def test_scheduler_runs_usage_and_retention_through_its_writer(store):
    now = datetime.now().timestamp()
    add_wifi(store, "c1", now - 600, now - 60)
    cfg = config_mod.Config(db=store.path, timezone="UTC")

    async def go():
        s = Scheduler(cfg, store, poller=None, spread=0)
        s.start([])
        try:
            assert s.scheduler.get_job("usage") is not None and s.scheduler.get_job("retention") is not None
            await s._usage_job()
            await s._retention_job()
        finally:
            s.shutdown()

    asyncio.run(go())
    assert store.conn.execute("SELECT count(*) FROM usage_days").fetchone()[0] == 2  # yesterday and today
    assert store.conn.execute("SELECT sum(sessions) FROM usage_daily").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM wifi_sessions").fetchone()[0] == 1  # too recent to prune


def test_migration_creates_the_usage_tables(tmp_path):
    s = Store(tmp_path / "a.db")
    names = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(store_usage.TABLES) | {"usage_days"} <= names
    s.close()


def _source_row(t: tuple) -> tuple:
    edu = t[2] == "eduroam"
    client = t[9] if t[0] == "r" and t[1] == "c4" and t[9] else t[1]  # RADIUS without client id: keyed by its user
    return (t[0], client, t[2], t[3], t[4], at(t[5] / 4), at((t[5] + t[6]) / 4), t[7], int(edu), t[8] if edu else None,
            t[9])  # fmt: skip


source_rows = st.lists(
    st.tuples(
        st.sampled_from("wr"),
        st.sampled_from(["c1", "c2", "c3", "c4"]),
        st.sampled_from(["CityWiFi", "eduroam"]),
        st.sampled_from(["", "ap1", "ap2"]),
        st.sampled_from([None, 1, 2]),
        st.integers(-30, 100),
        st.integers(0, 40),
        st.integers(0, 1000),
        st.sampled_from([None, "uni.example", "college.example"]),
        st.sampled_from([None, "u1", "u2"]),
    ).map(_source_row),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(source_rows)
@example(
    [  # one client's sessions touching at 10:00, and a RADIUS session joining two of the controller's
        ("w", "c1", "CityWiFi", "ap1", 1, at(9), at(10), 5, 0, None, None),
        ("w", "c1", "CityWiFi", "ap1", 1, at(10), at(11), 5, 0, None, None),
        ("w", "c2", "eduroam", "ap2", 1, at(9), at(9.5), 5, 1, "uni.example", None),
        ("w", "c2", "eduroam", "ap2", 1, at(10), at(10.5), 5, 1, "uni.example", None),
        ("r", "c2", "eduroam", "", None, at(9.25), at(10.25), 50, 1, "uni.example", "u1"),
    ]
)
def test_array_aggregation_equals_the_definition(rows_):
    """netmon.usage.arrays (what rebuild runs) gives exactly the rows of usage.aggregate_day (the definition)."""
    from netmon.usage import arrays as usage_arrays

    sites = {1: "central-library", 2: "arena"}
    lo, hi = usage.day_window(DAY, UTC)
    slots = usage.Slots.of(lo, hi, UTC)
    ap_info = {"ap1": ("ap-lib-01", "central-library")}
    samples = {"ap2": (3, at(7.5))}
    want = aggregate_day("d", lo, hi, slots, usage.merge_visits(rows_, sites), ap_info, samples)
    tables = usage_arrays.Tables.new()
    got = usage_arrays.aggregate("d", lo, hi, slots, usage_arrays.visit_arrays(rows_, sites, tables), tables,
                                 ap_info, samples)  # fmt: skip

    def same(a, b, rounded=()):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b, strict=True):
            assert len(x) == len(y)
            for n, (u, v) in enumerate(zip(x, y, strict=True)):
                if n in rounded:  # bytes: rounded sums of fractions, summed in another order
                    assert abs(u - v) <= 1, (x, y)
                elif isinstance(u, float) or isinstance(v, float):
                    assert u == pytest.approx(v, abs=1e-9), (x, y)
                else:
                    assert u == v and type(u) is type(v), (x, y)

    same(want.daily, got.daily, rounded=(6,))
    for part in ("site", "realm", "hourly", "ap"):
        same(getattr(want, part), getattr(got, part))


# -- a day's rows do not depend on the range rebuilt --------------------------------------------------------


def _lab_store() -> Store:
    s = Store(":memory:")
    with s.transaction() as c:
        c.execute("INSERT INTO sites (id, name, kind) VALUES (1, 'central-library', 'library'), (2, 'arena', 'arena')")
        c.execute(
            "INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'wlc-1', '127.0.0.1', 1, 'wlc')"
        )
    return s


def _day_rows(s: Store, day: date) -> dict:
    out = {}
    for t in store_usage.TABLES:
        cur = s.conn.execute(f"SELECT * FROM {t} WHERE day = ? ORDER BY 1, 2, 3, 4", (day.isoformat(),))
        out[t] = [tuple(r) for r in cur]
    return out


def _same_rows(a: dict, b: dict) -> None:
    for t in store_usage.TABLES:
        assert len(a[t]) == len(b[t]), (t, a[t], b[t])
        for x, y in zip(a[t], b[t], strict=True):
            for n, (u, v) in enumerate(zip(x, y, strict=True)):
                if t == "usage_daily" and n == 6:  # bytes: rounded sums of fractions, summed in another order
                    assert abs(u - v) <= 1, (t, x, y)
                elif isinstance(u, float):
                    assert u == pytest.approx(v, abs=1e-9), (t, x, y)
                else:
                    assert u == v, (t, x, y)


sessions_around_a_day = st.lists(
    st.tuples(
        st.sampled_from("wr"),
        st.sampled_from(["c1", "c2", None]),  # None: a RADIUS session without Calling-Station-Id
        st.sampled_from([None, 1, 2]),
        st.integers(-40, 60),  # start, hours from DAY's midnight
        st.integers(0, 20),  # length in hours
        st.sampled_from(["CityWiFi", "eduroam"]),
        st.sampled_from([None, "u1", "u2"]),
        st.integers(0, 1000),
    ),
    max_size=14,
)


def _load(s: Store, sessions) -> None:
    for n, (src, client, site, start, length, ssid, user, nbytes) in enumerate(sessions):
        if src == "w":
            add_wifi(s, client or "c3", at(start), at(start + length), site=site, ssid=ssid, rx=nbytes, user=user)
        else:
            add_radius(s, client, at(start), at(start + length), site=site, octets=(nbytes, 0), user=user,
                       ssid=ssid, key=f"k{n}")  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(sessions_around_a_day)
@example(
    [  # the review's case: a RADIUS session the day before joins two controller sessions reaching into DAY
        ("r", "c1", None, -16, 4, "CityWiFi", None, 0),
        ("w", "c1", 1, -13, 14, "CityWiFi", None, 1000),
        ("w", "c1", 2, -12, 14, "CityWiFi", None, 1000),
    ]
)
@example(
    [  # a chain: each link reaches further back than the first read's margin
        ("w", "c1", 1, 20, 10, "eduroam", "u1", 10),
        ("r", "c1", None, 12, 9, "eduroam", "u1", 10),
        ("w", "c1", 1, 4, 9, "eduroam", "u1", 10),
        ("r", None, None, -4, 9, "eduroam", "u1", 10),
        ("w", "c1", 2, -12, 9, "eduroam", "u1", 10),
        ("r", "c1", None, -20, 9, "eduroam", "u1", 10),
        ("w", "c1", 1, -28, 9, "eduroam", "u1", 10),
    ]
)
def test_a_days_rows_do_not_depend_on_the_range_rebuilt(sessions):
    """Rebuilding DAY alone, with the day before or with the day after gives the same rows for DAY."""
    before, after = date(2026, 5, 11), date(2026, 5, 13)
    got = []
    for first, last in ((DAY, DAY), (before, DAY), (DAY, after), (before, after)):
        s = _lab_store()
        try:
            _load(s, sessions)
            s.rebuild_usage(first, last, UTC)
            got.append(_day_rows(s, DAY))
        finally:
            s.close()
    for other in got[1:]:
        _same_rows(got[0], other)


def test_a_radius_session_without_client_id_merges_with_the_same_users_controller_session(store):
    # RADIUS without Calling-Station-Id: keyed by the user; the controller's eduroam session carries that user
    add_wifi(store, "c1", at(9), at(10), ssid="eduroam", rx=500, realm="uni.example", user="u1")
    add_radius(store, None, at(8.5), at(9.5), octets=(1000, 0), user="u1", realm="uni.example", key="a")
    # the same user's second device at the same time, overlapping the RADIUS session less: a visit of its own
    add_wifi(store, "c2", at(9.4), at(11), ssid="eduroam", rx=7, realm="uni.example", user="u1")
    # another user's RADIUS session without client id: no controller session of that user, counted alone
    add_radius(store, None, at(12), at(13), octets=(5, 0), user="u2", realm="uni.example", key="b")
    store.rebuild_usage(DAY, DAY, UTC)
    edu = daily(store)[("central-library", "eduroam")]
    assert (edu["sessions"], edu["clients"]) == (3, 3)  # c1 + its RADIUS session once, c2, u2's RADIUS session
    assert edu["connected_hours"] == pytest.approx(1.5 + 1.6 + 1)
    assert edu["bytes"] == 1000 + 7 + 5
    assert edu["eduroam_users"] == 2


def test_a_clientless_radius_session_joins_one_device_of_its_user():
    rows_ = [
        ("w", "c1", "eduroam", "ap1", 1, 100.0, 200.0, 10, 1, "r.example", "u"),
        ("w", "c2", "eduroam", "ap1", 1, 180.0, 400.0, 10, 1, "r.example", "u"),
        ("r", "u", "eduroam", "ap1", None, 150.0, 300.0, 50, 1, "r.example", "u"),  # client key = user: clientless
    ]
    visits = sorted(usage.merge_visits(rows_, {1: "lib"}), key=lambda v: v.start)
    assert [(v.client, v.start, v.end, v.sources) for v in visits] == [
        ("c1", 100.0, 200.0, "w"),
        ("c2", 150.0, 400.0, "rw"),  # 120 s with c2 against 50 s with c1
    ]


def test_the_read_window_widens_only_for_visits_touching_the_day(store):
    """Overlapping controller sessions never join each other: a chain of them across weeks must not drag the
    whole chain into one day's read (only a visit touching the day widens the window)."""
    for k in range(-100, 100):  # one client's 6-hour sessions every 5 hours, for about 40 days
        add_wifi(store, "c1", at(5 * k), at(5 * k + 6))
    add_radius(store, "c2", at(9), at(10), key="r")
    lo, hi = usage.day_window(DAY, UTC)
    conn = store.conn
    rows = store_usage.fetch(conn, lo, hi, store_usage.longest_session(conn, True), True)
    assert len(rows) <= 12  # the day's sessions and those near it, not 200
    assert usage.reach(rows, lo, hi)[0] >= lo - store_usage.MARGIN - 6 * 3600
