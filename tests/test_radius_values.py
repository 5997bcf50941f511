"""RADIUS records with values no session can have: refused (not stored, so not answered), counted; aggregation of
what is stored saturates instead of overflowing."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from collectors.radius import codec
from inventory.model import Device, Inventory, Site
from netmon.store import Store
from netmon.usage.definition import MAX_INTEGER, saturated
from tests.radius_peers import AccountingServer, RawNas, request

UTC = ZoneInfo("UTC")


def _record(**values) -> codec.AccountingRecord:
    return codec.AccountingRecord(nas="n", received=time.time(), status=codec.STOP, session_id="s", **values)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"session_time": 2**32 - 1}, "Acct-Session-Time"),
        ({"delay_time": 2**32 - 1}, "Acct-Delay-Time"),
        ({"session_time": 60, "input_octets": (2**31 - 1) << 32}, "Acct-Input-Octets"),
        ({"session_time": 1, "output_octets": 10**12}, "Acct-Output-Octets"),
    ],
)
def test_implausible_values_are_named(values, why):
    assert why in codec.implausible(_record(**values))


def test_real_sessions_are_believed():
    assert codec.implausible(_record(session_time=8 * 3600, input_octets=2 * 10**12, output_octets=10**9)) is None
    assert codec.implausible(_record(input_octets=(2**31 - 1) << 32)) is None  # no session time: nothing to weigh
    assert codec.implausible(_record(session_time=365 * 86400, delay_time=86400)) is None


def test_the_listener_refuses_them_unanswered_and_counts_them(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            try:
                nas.send(request(codec.STOP, "old", 1, acct_session_time=2**32 - 1))
                refused = await nas.receive(1.0)
                nas.send(request(codec.STOP, "fine", 2, acct_session_time=600, acct_input_octets=10**6))
                answered = await nas.receive(1.0)
            finally:
                nas.close()
        return refused, answered, server.sessions(), server.packets()

    refused, answered, sessions, packets = asyncio.run(scenario())
    assert refused is None and answered is not None
    assert len(sessions) == 1 and sessions[0]["start"] > datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    assert packets[("stop", "implausible")] == 1 and packets[("stop", "ok")] == 1


def test_aggregation_saturates_instead_of_overflowing(tmp_path):
    """Two sessions of 2^62 octets each in one day (believable without Acct-Session-Time) sum past SQLite's
    INTEGER: the day's bytes stop at 2^63-1, and the rebuild, the report and retention go on."""
    store = Store(tmp_path / "n.db")
    store.import_inventory(
        Inventory(sites=[Site("hall", "city-hall")], devices=[Device("wlc", "127.0.0.1", "hall", "wlc", "p")])
    )
    day = date(2026, 5, 1)
    lo = datetime(2026, 5, 1, 9, tzinfo=UTC).timestamp()
    with store.transaction() as c:
        for n in range(2):
            c.execute(
                "INSERT INTO radius_sessions (nas, sender, session_key, client, ssid, start, last_update, stop, "
                "input_octets, output_octets) VALUES ('n', '', ?, ?, 'eduroam', ?, ?, ?, ?, 0)",
                (f"k{n}", f"c{n}", lo, lo + 600, lo + 600, 2**62),
            )
    done = store.rebuild_usage(day, day, UTC)
    assert done.days == ["2026-05-01"]
    total = store.conn.execute("SELECT sum(bytes) FROM usage_daily").fetchone()[0]
    assert total == MAX_INTEGER
    with store.transaction() as c:  # a second saturated day: the report sums days, and must saturate too
        c.execute(
            "INSERT INTO usage_daily SELECT '2026-05-02', site, ssid, clients, sessions, connected_hours, bytes, "
            "peak_clients, peak_hour, eduroam_sessions, eduroam_users, clients_hll FROM usage_daily"
        )
    from netmon.reports import build

    report = build.report(store, day, day + timedelta(days=1), UTC, [], 30)
    assert report.tables["totals"].rows[4][1] == MAX_INTEGER  # bytes, saturated, not an overflow
    store.close()


def test_saturated():
    assert saturated(2.0**64) == MAX_INTEGER and saturated(float("inf")) == MAX_INTEGER
    assert saturated(float("nan")) == 0 and saturated(-5) == 0 and saturated(12.4) == 12
