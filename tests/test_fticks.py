"""F-Ticks: the parser (property-tested), `netmon ingest fticks` and the UDP syslog listener."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.radius import fticks
from netmon.store import Store
from tests.conftest import run_netmon
from tests.radius_peers import KEY

LINE = "F-TICKS/eduroam/1.0#REALM=uni.example#VISCOUNTRY=NL#VISINST=1campus.example#CSI=3c-22-fb-12-34-56#RESULT=OK#"


def test_parse_examples():
    e = fticks.parse_line(LINE, now=1000.0)
    assert (e.realm, e.result, e.viscountry, e.visinst, e.csi, e.repeat, e.ts) == (
        "uni.example", "OK", "NL", "campus.example", "3c-22-fb-12-34-56", 1, 1000.0,
    )  # fmt: skip
    iso = "2025-10-05T00:00:28+03:00 radius1 freeradius: " + LINE.replace("RESULT=OK", "RESULT=FAIL")
    e = fticks.parse_line(iso, now=0.0)
    assert e.result == "FAIL" and e.ts == datetime.fromisoformat("2025-10-05T00:00:28+03:00").timestamp()
    bsd = "Oct 6 11:28:26 radius1 fticks[11756]: " + LINE
    now = datetime(2026, 11, 22, 12, 0).timestamp()
    assert fticks.parse_line(bsd, now=now).ts == datetime(2026, 10, 6, 11, 28, 26).timestamp()
    december = "Dec 31 23:59:00 host fticks: " + LINE  # seen in January: last year's
    assert (
        fticks.parse_line(december, now=datetime(2026, 1, 1, 0, 5).timestamp()).ts
        == datetime(2025, 12, 31, 23, 59).timestamp()
    )
    repeated = "2025-10-05T00:00:37+03:00 radius1 freeradius: message repeated 2 times: [ " + LINE + "]"
    e = fticks.parse_line(repeated, now=0.0)
    assert e.repeat == 2 and e.result == "OK"
    assert fticks.parse_line("Oct 6 11:28:26 host sshd[1]: Accepted publickey", now=0.0) is None


def test_personal_fields_are_never_kept():
    line = LINE.replace("#RESULT", "#PN=alice@uni.example#USERNAME=alice@uni.example#RESULT")
    e = fticks.parse_line(line, now=0.0)
    assert "alice" not in repr(e) and "alice" not in str(vars(e) if hasattr(e, "__dict__") else e)
    assert all("alice" not in str(getattr(e, f)) for f in e.__slots__)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("F-TICKS/eduroam/1.0#VISCOUNTRY=NL#RESULT=OK#", "no REALM"),
        ("F-TICKS/eduroam/1.0#REALM=uni.example#VISCOUNTRY=NL#", "no RESULT"),
        ("F-TICKS/eduroam/1.0#REALM=uni.example#RESULT=MAYBE#", "RESULT is not OK or FAIL"),
        ("F-TICKS/eduroam/1.0#REALM=not a realm#RESULT=OK#", "REALM is not a domain name"),
        ("F-TICKS/eduroam/1.0#REALM=uni.example#garbage#RESULT=OK#", "is not KEY=VALUE"),
        ("F-TICKS eduroam REALM=uni.example RESULT=OK", "without a federation/version header"),
    ],
)
def test_malformed_lines(line, why):
    with pytest.raises(fticks.FTicksError, match=why):
        fticks.parse_line(line, now=0.0)


_field_text = st.text(st.characters(blacklist_characters="#\n\r", blacklist_categories=("Cs",)), max_size=30)
_label = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)
_realm = st.lists(_label, min_size=2, max_size=4).map(".".join)
PREFIXES = ["", "2025-10-05T00:00:28Z host radiusd: ", "<134>Oct  6 11:28:26 host fticks[1]: "]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_fails_cleanly(text):
    try:
        e = fticks.parse_line(text, now=0.0)
    except fticks.FTicksError:
        return
    assert e is None or (e.result in fticks.RESULTS and e.realm and e.repeat >= 1)


@settings(max_examples=300, deadline=None)
@given(_realm, st.sampled_from(["OK", "FAIL", "ok"]), st.one_of(st.none(), _realm), st.one_of(st.none(), _field_text),
       st.sampled_from(PREFIXES))  # fmt: skip
def test_generated_lines_round_trip(realm, result, visinst, csi, prefix):
    parts = [f"REALM={realm}", "VISCOUNTRY=SE"]
    if visinst is not None:
        parts.append(f"VISINST=1{visinst}")
    if csi is not None:
        parts.append(f"CSI={csi}")
    parts.append(f"RESULT={result}")
    e = fticks.parse_line(prefix + "F-TICKS/eduroam/1.0#" + "#".join(parts) + "#", now=5.0)
    assert (e.realm, e.result, e.viscountry, e.visinst) == (realm, result.upper(), "SE", visinst)
    assert e.csi == ((csi or "").strip() or None)


def test_ingest_fticks_cli(tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("privacy: {key: fticks-test-key-0123456789}\n")
    secrets.chmod(0o600)
    log = tmp_path / "fticks.log"
    log.write_text(
        "Oct 6 11:28:26 radius1 fticks[1]: " + LINE + "\n"
        "Oct 6 11:28:27 radius1 sshd[2]: unrelated\n"
        "F-TICKS/eduroam/1.0#REALM=uni.example#RESULT=PERHAPS#\n"
        + LINE.replace("uni.example", "college.example").replace("RESULT=OK", "RESULT=FAIL")
        + "#PN=bob@college.example\n"
    )
    db = tmp_path / "n.db"
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "fticks", str(log))
    assert r.returncode == 2, r.stdout + r.stderr  # bad lines: reported, the good ones stored
    assert f"{log}:3: not a valid F-Ticks line: RESULT is not OK or FAIL" in r.stderr
    assert "2 F-Ticks events (FAIL 1, OK 1)" in r.stdout and "1 malformed lines; 1 other lines" in r.stdout
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "fticks", "-", env={}, timeout=60)
    assert r.returncode == 0  # empty stdin
    store = Store(db, readonly=True)
    rows = [dict(x) for x in store.conn.execute("SELECT * FROM fticks_events ORDER BY realm")]
    assert [(x["realm"], x["result"], x["visinst"]) for x in rows] == [
        ("college.example", "FAIL", "campus.example"), ("uni.example", "OK", "campus.example"),
    ]  # fmt: skip
    assert rows[1]["csi"] == KEY.__class__(b"fticks-test-key-0123456789").mac("3c:22:fb:12:34:56")
    assert store.fticks_counts() == {"OK": 1, "FAIL": 1, "malformed": 1}
    store.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*"))
    for raw in (b"bob", b"3c-22-fb", b"3c:22:fb"):
        assert raw not in blob
    missing = run_netmon("--db", str(db), "ingest", "fticks", str(log))
    assert missing.returncode == 2 and "privacy" in missing.stderr


def test_ingest_from_stdin(tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("privacy: {key: fticks-test-key-0123456789}\n")
    secrets.chmod(0o600)
    import subprocess
    import sys

    from tests.conftest import VENV_BIN

    exe = VENV_BIN / "netmon"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
    r = subprocess.run(
        [*cmd, "--db", str(tmp_path / "n.db"), "--secrets", str(secrets), "ingest", "fticks", "-"],
        input=LINE + "\n" + LINE + "\n", capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip
    assert r.returncode == 0 and "<stdin>: 2 F-Ticks events (OK 2)" in r.stdout, r.stdout + r.stderr


def test_syslog_listener(tmp_path):
    async def scenario():
        store = Store(tmp_path / "n.db")
        writer = ThreadPoolExecutor(1)
        listener = await fticks.FTicksSyslogListener(
            lambda events, bad, dropped: store.record_fticks(events, KEY, bad, dropped), writer
        ).start("127.0.0.1", 0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for text in ("<134>Oct  6 11:28:26 radius1 fticks[1]: " + LINE, "<134>broken F-TICKS line", "not fticks"):
            sock.sendto(text.encode(), listener.address)
        sock.close()
        deadline = time.monotonic() + 5
        while listener.received < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await listener.drain()
        listener.close()
        writer.shutdown(wait=True)
        counts = store.fticks_counts()
        store.close()
        return counts

    assert asyncio.run(scenario()) == {"OK": 1, "malformed": 1}


def test_netmon_run_receives_fticks_over_syslog(tmp_path):
    import subprocess
    import sys

    from netmon import lab as lab_mod
    from tests.conftest import VENV_BIN

    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "privacy: {key: fticks-test-key-0123456789}\nradius:\n  wlc: {address: 127.0.0.1, secret: run-secret-xyz}\n"
    )
    secrets.chmod(0o600)
    port = lab_mod.free_udp_port()
    config = tmp_path / "netmon.yml"
    config.write_text(
        f"db: {tmp_path / 'n.db'}\nsecrets: {secrets}\nlisten: 127.0.0.1:{lab_mod.free_tcp_port()}\n"
        f"radius: {{listen: '127.0.0.1:0', fticks_listen: '127.0.0.1:{port}'}}\n"
    )
    exe = VENV_BIN / "netmon"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
    proc = subprocess.Popen(
        [*cmd, "--config", str(config), "run", "--duration", "6"], stderr=subprocess.PIPE, text=True
    )
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deadline = time.monotonic() + 20
        stored = {}
        while time.monotonic() < deadline and not stored:
            sock.sendto(("<134>Oct  6 11:28:26 radius1 fticks[1]: " + LINE).encode(), ("127.0.0.1", port))
            time.sleep(0.5)
            if (tmp_path / "n.db").exists():
                try:
                    reader = Store(tmp_path / "n.db", readonly=True)
                    stored = reader.fticks_counts()
                    reader.close()
                except Exception:  # the schema may not be there yet
                    stored = {}
        sock.close()
    finally:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert stored.get("OK", 0) >= 1 and "FTicksSyslogListener on udp 127.0.0.1:" in err


def test_csi_pseudonym_mac_hash_or_other():
    from netmon.store.radius import csi_pseudonym

    hashed = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert csi_pseudonym(KEY, hashed.upper()) == hashed  # already hashed by the RADIUS server: kept
    assert csi_pseudonym(KEY, "00005E005302") == KEY.mac("00:00:5e:00:53:02")  # same as the device's sessions
    assert csi_pseudonym(KEY, "tel:+15551234") == KEY.user("tel:+15551234")
    assert csi_pseudonym(KEY, "") is None and csi_pseudonym(KEY, None) is None


def test_a_field_without_equals_is_reported_without_its_text():
    """`CSI 00:11:22:33:44:55` (no '='): the error names the field's position and size, never its content,
    since it goes to the log and to `netmon ingest fticks`' output."""
    line = "F-TICKS/eduroam/1.0#REALM=uni.example#CSI 00:11:22:33:44:55#RESULT=OK#"
    with pytest.raises(fticks.FTicksError) as err:
        fticks.parse_line(line, now=0.0)
    assert str(err.value) == "field 2 (21 characters) is not KEY=VALUE"
    assert "00:11" not in str(err.value) and "CSI" not in str(err.value)


def test_syslog_listener_takes_only_allowed_sources(tmp_path, caplog):
    """Syslog is unauthenticated: datagrams from a source outside the allow-list are dropped unread, counted
    (netmon_fticks_dropped_datagrams_total) and logged once a minute per source."""
    import ipaddress
    import logging

    caplog.set_level(logging.WARNING)

    async def scenario():
        store = Store(tmp_path / "n.db")
        writer = ThreadPoolExecutor(1)
        listener = await fticks.FTicksSyslogListener(
            lambda events, bad, dropped: store.record_fticks(events, KEY, bad, dropped),
            writer,
            [ipaddress.ip_network("127.0.0.2/32")],
        ).start("127.0.0.1", 0)
        socks = {}
        for source in ("127.0.0.1", "127.0.0.2"):
            socks[source] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks[source].bind((source, 0))
        for _ in range(2):
            socks["127.0.0.1"].sendto(LINE.encode(), listener.address)  # not allowed, twice
        socks["127.0.0.2"].sendto(LINE.encode(), listener.address)
        deadline = time.monotonic() + 5
        while listener.received < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await listener.drain()
        for sock in socks.values():
            sock.close()
        listener.close()
        writer.shutdown(wait=True)
        counts = store.fticks_counts()
        store.close()
        return counts, listener.dropped

    counts, dropped = asyncio.run(scenario())
    assert counts == {"OK": 1, "unknown_source": 2} and dropped == 2
    warnings = [r.getMessage() for r in caplog.records if "not an allowed source" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0]


def test_fticks_sources_default_and_validation():
    import ipaddress

    from netmon.config import RadiusSettings

    declared = [ipaddress.ip_network("192.0.2.0/28")]
    default = RadiusSettings().fticks_networks(declared)
    assert set(default) == {ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"), *declared}
    chosen = RadiusSettings(fticks_sources=["198.51.100.7", "2001:db8::/64"]).fticks_networks(declared)
    assert chosen == (ipaddress.ip_network("198.51.100.7/32"), ipaddress.ip_network("2001:db8::/64"))
    with pytest.raises(ValueError, match="not an address or network"):
        RadiusSettings(fticks_sources=["radius.example"])
    with pytest.raises(ValueError, match="must be a list"):
        RadiusSettings(fticks_sources="127.0.0.1")


def test_syslog_listener_forgets_old_log_entries():
    """The once-a-minute log memory is pruned when it grows (a flood from many sources cannot grow it forever)."""
    listener = fticks.FTicksSyslogListener(lambda *a: 0, None)
    for n in range(5000):
        listener._warn(f"198.51.100.{n % 250}-{n}", 0.0, "F-Ticks: test %s")
    listener._warn("203.0.113.1", 1000.0, "F-Ticks: test %s")
    assert len(listener._logged) == 1


# -- hostile input: repeats, floods, fields that are not what they say -------------------------------------------


def test_a_repeated_line_is_one_row_with_its_weight(tmp_path):
    line = "2025-10-05T00:00:37+03:00 radius1 freeradius: message repeated 100000 times: [ " + LINE + "]"
    store = Store(tmp_path / "n.db")
    try:
        assert store.record_fticks([fticks.parse_line(line)], KEY) == 1
        assert [tuple(r) for r in store.conn.execute("SELECT count(*), sum(weight) FROM fticks_events")] == [
            (1, 100_000)
        ]
        assert store.fticks_counts() == {"OK": 100_000}  # the events are still counted as events
    finally:
        store.close()


def test_a_flood_is_rate_limited_per_source_and_the_store_stays_small(tmp_path):
    """One source sending 3,000 "repeated 100000 times" datagrams at once: what passes is bounded by its bucket and
    stored as one row each; a second, quiet source still gets through; every dropped datagram is counted. (The
    datagrams are handed to the listener as its socket would, so the kernel's buffer does not decide the count.)"""
    import ipaddress

    flood = ("message repeated 100000 times: [ " + LINE + "]").encode()
    quiet = LINE.replace("uni.example", "quiet.example").encode()

    async def scenario():
        store = Store(tmp_path / "n.db")
        writer = ThreadPoolExecutor(1)
        listener = await fticks.FTicksSyslogListener(
            lambda events, bad, dropped: store.record_fticks(events, KEY, bad, dropped),
            writer,
            [ipaddress.ip_network("127.0.0.0/8")],
        ).start("127.0.0.1", 0)
        t0 = time.monotonic()
        for n in range(3000):
            listener.datagram_received(flood, ("127.0.0.1", 40000))
            if n % 300 == 0:
                listener.datagram_received(quiet, ("127.0.0.3", 40000))
        handled = time.monotonic() - t0
        await listener.drain()
        listener.close()
        writer.shutdown(wait=True)
        rows = store.conn.execute("SELECT realm, count(*), sum(weight) FROM fticks_events GROUP BY realm").fetchall()
        counts = store.fticks_counts()
        store.close()
        return {r[0]: (r[1], r[2]) for r in rows}, counts, handled

    rows, counts, handled = asyncio.run(scenario())
    assert rows["quiet.example"][0] == 10  # every quiet datagram
    passed = rows["uni.example"][0]
    assert fticks.SOURCE_BURST <= passed <= fticks.SOURCE_BURST + fticks.SOURCE_RATE * handled + 1
    assert counts["rate_limited"] == 3000 - passed
    assert counts["OK"] == 10 + passed * 100_000  # the repeats still count as events
    assert (tmp_path / "n.db").stat().st_size < 5 * 2**20


def test_the_listener_queue_and_batches_are_bounded():
    """While the writer is busy, at most MAX_PENDING events wait (the rest are counted as overflow), and each
    commit takes at most MAX_BATCH of them."""
    import threading

    gate = threading.Event()
    batches = []

    def commit(events, malformed, dropped):
        gate.wait(10)
        batches.append((len(events), dict(dropped)))

    async def scenario():
        writer = ThreadPoolExecutor(1)
        limiter = fticks.RateLimiter(1e9, 1e9, 1e9, 1e9)
        listener = fticks.FTicksSyslogListener(commit, writer, None, limiter)
        for n in range(fticks.MAX_PENDING + 1000):
            listener.datagram_received(LINE.encode(), (f"127.0.{n % 200}.1", 40000))
        gate.set()
        await listener.drain()
        writer.shutdown(wait=True)

    asyncio.run(scenario())
    assert max(n for n, _ in batches) <= fticks.MAX_BATCH
    overflow = sum(d.get("overflow", 0) for _, d in batches)
    assert sum(n for n, _ in batches) + overflow == fticks.MAX_PENDING + 1000 and overflow == 999


def test_fields_that_are_not_what_they_name_are_not_stored():
    bad = LINE.replace("VISINST=1campus.example", "VISINST=3c:22:fb:12:34:56").replace(
        "VISCOUNTRY=NL", "VISCOUNTRY=N_L"
    )
    e = fticks.parse_line(bad, now=0.0)
    assert e.visinst is None and e.viscountry is None and e.realm == "uni.example"
    assert fticks.parse_line(LINE, now=0.0).visinst == "campus.example"
