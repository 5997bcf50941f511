"""RADIUS accounting end to end on loopback: real NAS peers (radclient, pyrad), netmon's listener, a real store.

What must hold (issue 5): sessions follow Start / Interim / Stop idempotently
and in any order, answers go out only after the commit, forged, truncated,
unknown and random packets are dropped and counted without harming anything,
Accounting-On and silence close sessions, and only pseudonyms reach the disk.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.credentials import Nas
from collectors.radius import codec
from netmon.privacy import Pseudonymizer
from netmon.store import Store
from netmon.store.radius import close_timed_out, session_pseudonym
from tests.conftest import require_tool
from tests.radius_peers import KEY, SECRET, AccountingServer, RawNas, pyrad_client, radclient, request

USER = "alice.visitor@uni.example"
MAC = "3C-22-FB-12-34-56"
AP = "00-3A-A0-00-00-01"
FRAMED = "198.51.100.77"
CUI = "cui-8f3a-alice"
# Cisco AireOS's Acct-Session-Id carries the client's MAC: the store must keep only a hash of it
SESSION_ID = "5f1a0001/" + MAC.replace("-", ":").lower() + "/1"


def sk(raw: str, key: Pseudonymizer = KEY) -> str:
    """The stored session_key of an Acct-Session-Id."""
    return session_pseudonym(key, raw)


def by_id(rows, *raws: str, key: Pseudonymizer = KEY) -> dict:
    """Rows by the raw Acct-Session-Id among ``raws`` their stored key hashes."""
    names = {sk(raw, key): raw for raw in raws}
    return {names.get(r["session_key"], r["session_key"]): r for r in rows}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def add_ap(path: Path, mac: str = "00:3a:a0:00:00:01", site: str = "central-library") -> int:
    """A site, a controller and one of its APs, as the Wi-Fi collector leaves them."""
    store = Store(path)
    with store.transaction() as conn:
        conn.execute("INSERT INTO sites (name, kind) VALUES (?, 'library')", (site,))
        site_id = conn.execute("SELECT id FROM sites WHERE name = ?", (site,)).fetchone()[0]
        conn.execute(
            "INSERT INTO devices (hostname, address, site_id, role) VALUES ('wlc-city', '127.0.0.1', ?, 'wlc')",
            (site_id,),
        )
        conn.execute(
            "INSERT INTO access_points (controller_id, mac, name, status, site_id, first_seen, last_seen) "
            "VALUES (1, ?, 'ap-central-library-01', 'up', ?, 0, 0)",
            (mac, site_id),
        )
    store.close()
    return site_id


def lifecycle_attrs(status: str, **extra) -> dict:
    return {
        "Acct-Status-Type": status,
        "Acct-Session-Id": SESSION_ID,
        "User-Name": USER,
        "Calling-Station-Id": MAC,
        "Called-Station-Id": f"{AP}:eduroam",
        "Framed-IP-Address": FRAMED,
        "Chargeable-User-Identity": CUI,
        "NAS-IP-Address": "127.0.0.1",
        **extra,
    }


def test_full_lifecycle_with_radclient(tmp_path):
    tool = require_tool("radclient")
    site_id = add_ap(tmp_path / "n.db")

    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            t0 = time.time()
            steps = [
                lifecycle_attrs("Start"),
                lifecycle_attrs("Interim-Update", **{"Acct-Session-Time": 60, "Acct-Input-Octets": 1000,
                                                     "Acct-Output-Octets": 5000}),
                lifecycle_attrs("Stop", **{"Acct-Session-Time": 125, "Acct-Input-Octets": 7,
                                           "Acct-Input-Gigawords": 1, "Acct-Output-Octets": 9000,
                                           "Acct-Terminate-Cause": "User-Request"}),
            ]  # fmt: skip
            for attrs in steps:
                done = await radclient(tool, server.port, attrs, tmp=tmp_path)
                assert done.returncode == 0, done.stdout + done.stderr
                if attrs["Acct-Status-Type"] == "Start":
                    [row] = server.sessions()
                    assert row["stop"] is None and row["start"] >= t0 - 1
            return server.sessions(), server.packets(), t0

    [row], packets, t0 = run(scenario())
    assert row["nas"] == "wlc-test" and row["sender"] == "127.0.0.1" and row["session_key"] == sk(SESSION_ID)
    assert row["user"] == KEY.user(USER) and row["realm"] == "uni.example"
    assert row["client"] == KEY.mac(MAC) and row["framed_ip"] == KEY.address(FRAMED) and row["cui"] == KEY.user(CUI)
    assert (row["ap_mac"], row["ssid"], row["eduroam"], row["site_id"]) == ("00:3a:a0:00:00:01", "eduroam", 1, site_id)
    assert row["session_time"] == 125 and row["terminate_cause"] == "User-Request"
    assert row["input_octets"] == 2**32 + 7 and row["output_octets"] == 9000
    assert t0 - 1 <= row["start"] <= row["last_update"] <= row["stop"] <= time.time()
    assert packets == {("start", "ok"): 1, ("interim-update", "ok"): 1, ("stop", "ok"): 1}


def test_retransmissions_and_duplicates_with_pyrad(tmp_path):
    pytest.importorskip("pyrad")
    path = tmp_path / "n.db"

    async def scenario():
        async with AccountingServer(path) as server:
            client = pyrad_client(server.port, tmp_path / "dictionary")
            start = client.CreateAcctPacket(**{"Acct-Status-Type": "Start", "Acct-Session-Id": "s-1",
                                               "User-Name": USER, "Calling-Station-Id": MAC})  # fmt: skip
            reply = await asyncio.to_thread(client.SendPacket, start)
            assert reply.code == codec.ACCOUNTING_RESPONSE
            before = server.sessions()
            # The same packet again, from another socket (so past the listener's retransmission cache, which is
            # keyed by source port too): the store recognises it; then twice more from that socket: the cache does.
            raw = start.RequestPacket()
            nas = RawNas(server.port)
            for _ in range(3):
                nas.send(raw)
                answer = await nas.receive(2.0)
                assert answer is not None and codec.verify_response(answer, raw, SECRET)
            nas.close()
            await server.listener.drain()
            assert server.sessions() == before
            interim = client.CreateAcctPacket(**{"Acct-Status-Type": "Interim-Update", "Acct-Session-Id": "s-1",
                                                 "Acct-Session-Time": 300, "Acct-Input-Octets": 4000})  # fmt: skip
            await asyncio.to_thread(client.SendPacket, interim)
            return server.sessions(), server.packets(), raw, interim.RequestPacket()

    rows, packets, start_raw, interim_raw = run(scenario())
    assert len(rows) == 1 and rows[0]["session_time"] == 300
    assert packets[("start", "duplicate")] == 1 and packets[("duplicate", "duplicate")] == 2
    after = rows

    # A duplicate that outlives the listener's cache (netmon restarted) is recognised by the store: nothing moves.
    async def again():
        async with AccountingServer(path) as server:
            nas = RawNas(server.port)
            for raw in (interim_raw, start_raw):
                nas.send(raw)
                assert await nas.receive(2.0) is not None
            nas.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(again())
    assert rows == after
    assert packets[("interim-update", "duplicate")] == 1 and packets[("start", "duplicate")] == 2


def test_out_of_order_updates_never_move_backwards(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            now = int(time.time())
            packets = [
                # an Interim before its Start opens the session at event time - session time
                request(codec.INTERIM_UPDATE, "s-9", 1, event_timestamp=now - 100, acct_session_time=600,
                        acct_input_octets=50_000, acct_output_octets=90_000, user_name=USER),
                # an older Interim arriving late changes nothing
                request(codec.INTERIM_UPDATE, "s-9", 2, event_timestamp=now - 400, acct_session_time=300,
                        acct_input_octets=20_000, acct_output_octets=30_000),
                # the Start, late: moves start to the truth (earlier), counters untouched
                request(codec.START, "s-9", 3, event_timestamp=now - 710, user_name=USER),
                request(codec.INTERIM_UPDATE, "s-9", 4, event_timestamp=now - 40, acct_session_time=660,
                        acct_input_octets=60_000, acct_output_octets=80_000),
            ]  # fmt: skip
            for p in packets:
                nas.send(p)
                assert await nas.receive(2.0) is not None
            nas.close()
            await server.listener.drain()
            return server.sessions(), server.packets(), now

    [row], packets, now = run(scenario())
    assert row["start"] == now - 710
    assert row["session_time"] == 660 and row["input_octets"] == 60_000 and row["output_octets"] == 90_000
    assert row["last_update"] == now - 40 and row["stop"] is None
    assert packets[("interim-update", "duplicate")] == 1


def test_gigaword_wrap(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            for n, (octets, gigawords, seconds) in enumerate([(2**32 - 100, 0, 60), (50, 1, 120), (10, 3, 180)]):
                counters = {"acct_input_octets": octets, "acct_input_gigawords": gigawords,
                            "acct_output_octets": octets, "acct_output_gigawords": gigawords}  # fmt: skip
                nas.send(request(codec.INTERIM_UPDATE, "s-g", n, acct_session_time=seconds, **counters))
                assert await nas.receive(2.0) is not None
                yield_rows = server.sessions()
                assert yield_rows[0]["input_octets"] == (gigawords << 32) + octets
            nas.close()
            return server.sessions()

    [row] = run(scenario())
    assert row["input_octets"] == row["output_octets"] == 3 * 2**32 + 10


def test_forged_unknown_truncated_packets_dropped_and_counted(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    nases = [Nas("wlc-test", ipaddress.ip_network("127.0.0.1/32"), SECRET)]

    async def scenario():
        async with AccountingServer(tmp_path / "n.db", nases=nases) as server:
            good = request(codec.START, "s-1", 7, user_name=USER, calling_station_id=MAC)
            forged = request(codec.START, "s-2", 8, secret=b"not-the-secret", user_name=USER)
            tampered = good[:-1] + bytes([good[-1] ^ 1])
            stranger = RawNas(server.port, source="127.0.0.9")
            nas = RawNas(server.port)
            stranger.send(good)
            nas.send(forged)
            nas.send(tampered)
            for cut in (3, 19, 20, len(good) - 1):
                # Length says more than arrived, or the header itself is cut
                nas.send(good[:cut])
            broken = bytearray(good)
            broken[21] = 1  # the first attribute's length below its own header
            nas.send(bytes(broken))
            nas.send(bytes([2]) + good[1:])  # an Access-Accept is not accounting
            for sock in (stranger, nas):
                assert await sock.receive(0.5) is None
            # still serving: the genuine packet from the declared NAS is answered
            nas.send(good)
            assert await nas.receive(2.0) is not None
            nas.close()
            stranger.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(scenario())
    assert [r["session_key"] for r in rows] == [sk("s-1")]
    assert packets[("unknown", "unknown_nas")] == 1
    assert packets[("unknown", "bad_authenticator")] == 2
    assert packets[("unknown", "truncated")] == 4
    assert packets[("unknown", "malformed")] == 1
    assert packets[("unknown", "not_accounting")] == 1
    assert packets[("start", "ok")] == 1
    # Logged, but at most once a minute per source, and never with the packet's content.
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 2, drops
    assert all(USER not in m and "uni.example" not in m and SECRET.decode() not in m for m in drops)


def test_malformed_attributes_after_authentication(tmp_path):
    """A NAS that knows the secret but sends nonsense: dropped as malformed, never stored."""

    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            bad = [
                codec.encode_request([(codec.ACCT_STATUS_TYPE, b"\x00\x01")], SECRET, 1),  # integer of 2 octets
                codec.encode_request([(codec.ACCT_SESSION_ID, "x")], SECRET, 2),  # no status type
                codec.encode_request([(codec.ACCT_STATUS_TYPE, codec.START)], SECRET, 3),  # no session id
                codec.encode_request(
                    [
                        (codec.ACCT_STATUS_TYPE, 1),
                        (codec.ACCT_SESSION_ID, "y"),
                        (codec.FRAMED_IP_ADDRESS, b"\x01\x02\x03"),
                    ],
                    SECRET,
                    4,
                ),
                # an octet count past 2^63-1 (Gigawords >= 2^31): no real counter, and SQLite could not hold it
                codec.encode_request(
                    [(codec.ACCT_STATUS_TYPE, 3), (codec.ACCT_SESSION_ID, "z"), (codec.ACCT_INPUT_GIGAWORDS, 2**31)],
                    SECRET,
                    5,
                ),
            ]
            for p in bad:
                nas.send(p)
            assert await nas.receive(0.5) is None
            nas.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(scenario())
    assert rows == [] and packets == {("unknown", "malformed"): 5}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=30), st.data())
def test_random_bytes_never_crash_or_store(datagrams, data):
    """Random datagrams, some dressed as Accounting-Requests from the declared NAS: nothing stored, still serving."""
    good = request(codec.START, "s-after", 200, user_name=USER)
    dressed = []
    for d in datagrams:
        if data.draw(st.booleans()):
            # a plausible header: code 4, Length covering the datagram, then random attributes (not signed)
            body = d[:280]
            d = bytes([4, 1]) + (20 + len(body)).to_bytes(2, "big") + bytes(16) + body
        dressed.append(d)
    dressed.append(good[: data.draw(st.integers(0, len(good) - 1))])  # a truncated genuine packet

    async def scenario(path):
        async with AccountingServer(path) as server:
            nas = RawNas(server.port)
            for d in dressed:
                nas.send(d)
            nas.send(good)
            answer = await nas.receive(3.0)
            nas.close()
            await server.listener.drain()
            return answer, server.sessions(), server.packets()

    with tempfile.TemporaryDirectory() as tmp:
        answer, rows, packets = run(scenario(Path(tmp) / "n.db"))
    assert answer is not None and codec.verify_response(answer, good, SECRET)
    assert [r["session_key"] for r in rows] == [sk("s-after")]
    assert sum(n for (kind, result), n in packets.items() if result not in ("ok", "duplicate")) == len(dressed)


def test_answer_only_after_commit(tmp_path):
    """The Accounting-Response is a promise that the record is stored: no commit, no answer."""
    gate = threading.Event()
    failing = {"on": False}
    holder: dict = {}

    def slow_commit(batch):
        gate.wait(10)
        if failing["on"]:
            raise OSError("disk full")
        return holder["server"].record(batch)

    async def scenario():
        async with AccountingServer(tmp_path / "n.db", commit=slow_commit) as server:
            holder["server"] = server
            nas = RawNas(server.port)
            packet = request(codec.START, "s-c", 1, user_name=USER)
            nas.send(packet)
            assert await nas.receive(0.7) is None  # the commit is still running
            assert server.sessions() == []
            gate.set()
            answer = await nas.receive(3.0)
            assert answer is not None and codec.verify_response(answer, packet, SECRET)
            assert [r["session_key"] for r in server.sessions()] == [sk("s-c")]  # committed before the answer
            # A failed commit: no answer (the NAS retransmits), counted; the retransmission is stored later.
            failing["on"] = True
            second = request(codec.START, "s-d", 2, user_name=USER)
            nas.send(second)
            assert await nas.receive(1.0) is None
            failing["on"] = False
            nas.send(second)
            answer = await nas.receive(5.0)
            assert answer is not None and codec.verify_response(answer, second, SECRET)
            nas.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(scenario())
    assert [r["session_key"] for r in rows] == [sk("s-c"), sk("s-d")]
    assert packets[("start", "store_error")] == 1 and packets[("start", "ok")] == 2


def test_accounting_on_off_close_the_nas_sessions(tmp_path):
    nases = [
        Nas("wlc-a", ipaddress.ip_network("127.0.0.1/32"), SECRET),
        Nas("wlc-b", ipaddress.ip_network("127.0.0.2/32"), SECRET),
    ]

    async def scenario():
        async with AccountingServer(tmp_path / "n.db", nases=nases) as server:
            a, b = RawNas(server.port), RawNas(server.port, source="127.0.0.2")
            for n, sock in enumerate((a, a, b)):
                sock.send(request(codec.INTERIM_UPDATE, f"s-{n}", n, acct_session_time=100))
                assert await sock.receive(2.0) is not None
            a.send(request(codec.ACCOUNTING_ON, "", 9))  # wlc-a restarted: its sessions are gone
            assert await a.receive(2.0) is not None
            b.send(request(codec.ACCOUNTING_OFF, "", 10))
            assert await b.receive(2.0) is not None
            a.close()
            b.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(scenario())
    causes = {k: (r["nas"], r["terminate_cause"], r["stop"] == r["last_update"])
              for k, r in by_id(rows, "s-0", "s-1", "s-2").items()}  # fmt: skip
    assert causes == {"s-0": ("wlc-a", "NAS-Reboot", True), "s-1": ("wlc-a", "NAS-Reboot", True),
                      "s-2": ("wlc-b", "NAS-Request", False)}  # fmt: skip
    assert packets[("accounting-on", "ok")] == 1 and packets[("accounting-off", "ok")] == 1


def test_silent_sessions_time_out_and_come_back(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db", interval=60) as server:
            nas = RawNas(server.port)
            now = int(time.time())
            nas.send(request(codec.START, "s-t", 1, event_timestamp=now - 1000))
            nas.send(request(codec.START, "s-u", 2, event_timestamp=now - 100, acct_interim_interval=600))
            nas.send(request(codec.START, "s-v", 3, event_timestamp=now - 200))
            for _ in range(3):
                assert await nas.receive(2.0) is not None
            await server.listener.drain()
            with server.store.transaction() as conn:
                closed = close_timed_out(conn, time.time(), 60)
            timed_out = {k: r["terminate_cause"] for k, r in by_id(server.sessions(), "s-t", "s-u", "s-v").items()}
            # The NAS was only silent: its next Interim reopens the session.
            nas.send(request(codec.INTERIM_UPDATE, "s-t", 4, acct_session_time=1000))
            assert await nas.receive(2.0) is not None
            nas.close()
            await server.listener.drain()
            return closed, timed_out, server.sessions()

    closed, timed_out, rows = run(scenario())
    assert closed == 2
    assert timed_out == {"s-t": "timed-out", "s-u": None, "s-v": "timed-out"}
    reopened = by_id(rows, "s-t")["s-t"]
    assert reopened["stop"] is None and reopened["terminate_cause"] is None


def test_multi_session_id_is_part_of_the_key(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            nas.send(request(codec.START, "same", 1, acct_multi_session_id="m-1"))
            nas.send(request(codec.START, "same", 2, acct_multi_session_id="m-2"))
            for _ in range(2):
                assert await nas.receive(2.0) is not None
            nas.close()
            await server.listener.drain()
            return server.sessions()

    assert sorted(r["session_key"] for r in run(scenario())) == sorted([sk("same|m-1"), sk("same|m-2")])


def test_privacy_nothing_raw_on_disk(tmp_path):
    tool = require_tool("radclient")
    path = tmp_path / "n.db"

    async def scenario():
        async with AccountingServer(path) as server:
            for status in ("Start", "Stop"):
                attrs = lifecycle_attrs(status, **{"Operator-Name": "1city.example"})
                assert (await radclient(tool, server.port, attrs, tmp=tmp_path)).returncode == 0
            return server.sessions()

    [row] = run(scenario())
    assert row["realm"] == "uni.example"
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*"))
    mac_digits = MAC.replace("-", "")
    for raw in (USER, "alice.visitor", MAC, MAC.lower(), mac_digits, mac_digits.lower(), MAC.replace("-", ":").lower(),
                FRAMED, CUI, SECRET.decode(), "1city.example"):  # fmt: skip
        assert raw.encode() not in blob, raw
        assert raw.encode("utf-16-le") not in blob, raw
    assert b"uni.example" in blob  # the realm is kept, in clear


def test_secrets_declare_nas_without_leaking(tmp_path, monkeypatch):
    from netmon import secrets as secrets_mod

    path = tmp_path / "secrets.yml"
    path.write_text(
        "radius:\n  wlc-city: {address: 127.0.0.0/29, secret: env:RADIUS_SECRET_TEST}\n"
        "  wlc-b: {address: 127.0.0.2, secret: plain-secret-value}\n"
    )
    path.chmod(0o600)
    monkeypatch.setenv("RADIUS_SECRET_TEST", "from-env-secret")
    loaded = secrets_mod.load(path)
    assert loaded.radius["wlc-city"].secret == b"from-env-secret"
    assert str(loaded.radius["wlc-b"].network) == "127.0.0.2/32"
    assert "secret" not in repr(loaded.radius).replace("secret=", "").lower() or "plain-secret-value" not in repr(
        loaded
    )
    assert "plain-secret-value" not in repr(loaded) and "from-env-secret" not in repr(loaded)
    from collectors.radius.listener import NasTable

    table = NasTable(loaded.radius.values())
    assert table.find("127.0.0.2").name == "wlc-b"  # the most specific declaration wins
    assert table.find("127.0.0.5").name == "wlc-city"
    assert table.find("127.0.0.9") is None
    path.write_text("radius:\n  wlc-x: {address: not-an-address, secret: very-secret-xyz}\n")
    with pytest.raises(secrets_mod.SecretsError) as err:
        secrets_mod.load(path)
    assert "very-secret-xyz" not in str(err.value)


def test_record_repr_hides_personal_data():
    r = codec.AccountingRecord(nas="n", received=0.0, status=1, session_id="s", user_name=USER, calling_station=MAC,
                               framed_ip=FRAMED, cui=CUI, operator_name="1op.example")  # fmt: skip
    text = repr(r)
    assert all(raw not in text for raw in (USER, MAC, FRAMED, CUI, "op.example"))


def test_run_refuses_radius_without_clients_or_key(tmp_path):
    from tests.conftest import run_netmon

    secrets = tmp_path / "secrets.yml"
    config = tmp_path / "netmon.yml"
    config.write_text(f"db: {tmp_path / 'n.db'}\nsecrets: {secrets}\nradius: {{listen: '127.0.0.1:0'}}\n")
    secrets.write_text("privacy: {key: run-test-key-0123456789}\n")
    secrets.chmod(0o600)
    r = run_netmon("--config", str(config), "run", "--duration", "1")
    assert r.returncode == 2 and "declares no RADIUS clients" in r.stderr, r.stderr
    secrets.write_text("radius:\n  wlc: {address: 127.0.0.1, secret: run-test-secret-x}\n")
    r = run_netmon("--config", str(config), "run", "--duration", "1")
    assert r.returncode == 2 and "pseudonyms" in r.stderr and "run-test-secret-x" not in r.stderr, r.stderr
    secrets.write_text(
        "privacy: {key: run-test-key-0123456789}\nradius:\n  wlc: {address: 127.0.0.1, secret: run-test-secret-x}\n"
    )
    config.write_text(f"db: {tmp_path / 'n.db'}\nsecrets: {secrets}\nradius: {{listen: '127.0.0.1:0', bogus: 1}}\n")
    r = run_netmon("--config", str(config), "run", "--duration", "1")
    assert r.returncode == 2 and "bogus" in r.stderr, r.stderr
    config.write_text(
        f"db: {tmp_path / 'n.db'}\nsecrets: {secrets}\nlisten: 127.0.0.1:0\nradius: {{listen: '127.0.0.1:0'}}\n"
    )
    r = run_netmon("--config", str(config), "run", "--duration", "2")
    assert r.returncode == 0 and "AccountingListener on udp 127.0.0.1:" in r.stderr, r.stderr


def test_ingest_pcap_backfills_through_the_same_checks(tmp_path):
    """`netmon ingest pcap`: a capture (written by scapy) replayed into the store: what the listener would
    accept is stored at capture time, duplicates change nothing, the rest is counted as dropped."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    from tests.conftest import run_netmon

    t0 = 1_790_000_000.0
    start = request(codec.START, "cap-1", 1, user_name=USER, calling_station_id=MAC)
    frames = []
    for n, (src, dport, payload) in enumerate([
        ("127.0.0.1", 1813, start),
        ("127.0.0.1", 1813, start),  # a NAS retransmission in the capture
        ("127.0.0.1", 1813, request(codec.INTERIM_UPDATE, "cap-1", 2, acct_session_time=60, acct_input_octets=9)),
        ("127.0.0.1", 1813, request(codec.START, "cap-2", 3, secret=b"wrong-secret")),
        ("127.0.0.9", 1813, request(codec.START, "cap-3", 4)),
        ("127.0.0.1", 53, b"not radius at all"),
    ]):  # fmt: skip
        frame = Ether() / IP(src=src, dst="127.0.0.1") / UDP(sport=40000, dport=dport) / Raw(payload)
        frame.time = t0 + 30 * n
        frames.append(frame)
    capture = tmp_path / "acct.pcap"
    wrpcap(str(capture), frames)
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "privacy: {key: pcap-test-key-0123456789}\n"
        f"radius:\n  wlc-cap: {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n"
    )
    secrets.chmod(0o600)
    db = tmp_path / "n.db"
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "pcap", str(capture))
    assert r.returncode == 0, r.stderr
    assert "2 stored, 1 duplicates, dropped: bad_authenticator 1, unknown_nas 1" in r.stdout, r.stdout
    store = Store(db, readonly=True)
    [row] = store.radius_sessions()
    pcap_key = Pseudonymizer(b"pcap-test-key-0123456789")
    assert (row["nas"], row["session_key"], row["start"], row["last_update"]) == (
        "wlc-cap", sk("cap-1", pcap_key), t0, t0 + 60,
    )  # fmt: skip
    assert row["input_octets"] == 9 and row["session_time"] == 60
    store.close()
    status = run_netmon("--db", str(db), "radius", "status")
    assert status.returncode == 0 and "wlc-cap" in status.stdout and "bad_authenticator" in status.stdout
    assert "(no SSID)" in status.stdout  # an open session, not eduroam: the capture sent no Called-Station-Id
    listing = run_netmon("--db", str(db), "radius", "sessions", "--open")
    assert listing.returncode == 0 and "wlc-cap" in listing.stdout and "open" in listing.stdout, listing.stdout
    assert KEY.user(USER) not in listing.stdout and USER not in listing.stdout + status.stdout
    bad = tmp_path / "not.pcap"
    bad.write_text("hello")
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "pcap", str(bad))
    assert r.returncode == 2 and "not a readable pcap" in r.stderr


def test_scheduler_closes_silent_sessions(tmp_path):
    """The scheduler's job, not just the function: a session silent for 3 interim intervals is closed."""
    from collections import Counter

    from collectors.radius.listener import Batch
    from netmon.config import Config, RadiusSettings
    from netmon.poller import Poller
    from netmon.scheduler import Scheduler
    from netmon.secrets import Secrets
    from netmon.store.radius import SessionSettings

    store = Store(tmp_path / "n.db")
    now = time.time()
    old = codec.AccountingRecord(nas="n", received=now - 200, status=codec.START, session_id="quiet")
    fresh = codec.AccountingRecord(nas="n", received=now, status=codec.START, session_id="talking")
    store.record_radius(Batch([old, fresh], Counter(), {}), KEY, SessionSettings())
    cfg = Config(
        db=tmp_path / "n.db", radius=RadiusSettings(listen="127.0.0.1:0", interim_interval=60, timeout_check=1)
    )

    async def scenario():
        poller = Poller(cfg, Secrets())
        scheduler = Scheduler(cfg, store, poller)
        scheduler.start([])
        try:
            for _ in range(50):
                await asyncio.sleep(0.1)
                if any(r["stop"] for r in store.radius_sessions()):
                    break
        finally:
            scheduler.shutdown()
            poller.close()

    run(scenario())
    rows = {k: (r["terminate_cause"], r["stop"]) for k, r in by_id(store.radius_sessions(), "quiet", "talking").items()}
    store.close()
    assert rows == {"quiet": ("timed-out", now - 200), "talking": (None, None)}


def test_session_id_reused_after_a_nas_reboot_is_a_new_session(tmp_path):
    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            now = int(time.time())
            for n, p in enumerate([
                request(codec.START, "1", 1, event_timestamp=now - 900, user_name=USER),
                request(codec.INTERIM_UPDATE, "1", 2, event_timestamp=now - 600, acct_session_time=300),
                request(codec.ACCOUNTING_ON, "", 3, event_timestamp=now - 500),  # rebooted: counters restart
                request(codec.START, "1", 4, event_timestamp=now - 100, user_name=USER),
                request(codec.START, "1", 5, event_timestamp=now - 900, user_name=USER),  # the old Start, very late
            ]):  # fmt: skip
                nas.send(p)
                assert await nas.receive(2.0) is not None, n
            nas.close()
            await server.listener.drain()
            return server.sessions()

    rows = run(scenario())
    assert [(r["session_key"].split("#")[0], r["start"], r["stop"] is None) for r in rows] == [
        (sk("1"), rows[0]["start"], False), (sk("1"), rows[1]["start"], True),
    ]  # fmt: skip
    assert rows[0]["terminate_cause"] == "NAS-Reboot" and rows[0]["session_key"] == f"{sk('1')}#{rows[0]['id']}"
    assert rows[1]["start"] - rows[0]["start"] == 800 and rows[1]["session_key"] == sk("1")


@st.composite
def session_packets(draw):
    """One session's packets as its NAS sends them (consistent times and growing counters), then delivered
    in any order, some twice, some lost (the Start too; never the last packet, whose values are checked)."""
    start = 1_790_000_000
    steps = draw(st.lists(st.tuples(st.integers(1, 900), st.integers(0, 2**34), st.integers(0, 2**34)),
                          min_size=1, max_size=8))  # fmt: skip
    sent = [codec.AccountingRecord(nas="n", received=start, status=codec.START, session_id="p", event_timestamp=start)]
    elapsed = octets_in = octets_out = 0
    for seconds, more_in, more_out in steps:
        elapsed, octets_in, octets_out = elapsed + seconds, octets_in + more_in, octets_out + more_out
        sent.append(codec.AccountingRecord(
            nas="n", received=start + elapsed, status=codec.INTERIM_UPDATE, session_id="p",
            event_timestamp=start + elapsed, session_time=elapsed, input_octets=octets_in, output_octets=octets_out,
        ))  # fmt: skip
    stopped = draw(st.booleans())
    if stopped:
        last = sent.pop()
        sent.append(codec.AccountingRecord(**{**{f: getattr(last, f) for f in last.__slots__},
                                              "status": codec.STOP, "terminate_cause": 1}))  # fmt: skip
    keep = [sent[-1]] + [p for p in sent[:-1] if draw(st.booleans())]
    delivered = keep + draw(st.lists(st.sampled_from(keep), max_size=6))
    delivered = draw(st.permutations(delivered))
    truth = {"start": start, "session_time": elapsed, "input_octets": octets_in, "output_octets": octets_out,
             "last_update": start + elapsed, "stop": start + elapsed if stopped else None,
             "terminate_cause": "User-Request" if stopped else None}  # fmt: skip
    return delivered, truth


@settings(max_examples=200, deadline=None)
@given(session_packets(), st.integers(1, 4))
def test_any_order_any_duplicates_same_session(case, batches):
    """The state machine's promise, as a property: order, duplication and batching never change the result."""
    from collections import Counter

    from collectors.radius.listener import Batch
    from netmon.store.radius import SessionSettings

    delivered, truth = case
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "n.db")
        size = max(1, len(delivered) // batches)
        for i in range(0, len(delivered), size):
            store.record_radius(Batch(list(delivered[i : i + size]), Counter(), {}), KEY, SessionSettings())
        [row] = store.radius_sessions()
        store.close()
    assert {k: row[k] for k in truth} == truth


def test_overload_drops_without_answer_and_ipv6(tmp_path):
    """More waiting than the listener holds while the store is stuck: the excess is dropped unanswered (the NAS
    retransmits later) and counted; and the listener serves IPv6 NAS too."""
    import socket as socket_mod
    from concurrent.futures import ThreadPoolExecutor

    from collectors.radius.listener import AccountingListener, NasTable
    from netmon.store.radius import SessionSettings

    gate = threading.Event()
    store = Store(tmp_path / "n.db")

    def commit(batch):
        gate.wait(10)
        return store.record_radius(batch, KEY, SessionSettings())

    async def scenario():
        writer = ThreadPoolExecutor(1)
        nases = NasTable([Nas("v6", ipaddress.ip_network("::1/128"), SECRET)])
        listener = await AccountingListener(nases, commit, writer, max_pending=2).start("::1", 0)
        sock = socket_mod.socket(socket_mod.AF_INET6, socket_mod.SOCK_DGRAM)
        sock.bind(("::1", 0))
        packets = [request(codec.START, f"v6-{n}", n) for n in range(6)]
        sock.sendto(packets[0], listener.address)
        await asyncio.sleep(0.3)  # the first batch is now in the (stuck) commit
        for p in packets[1:]:
            sock.sendto(p, listener.address)
        await asyncio.sleep(0.3)
        gate.set()
        answers = []
        sock.settimeout(2.0)
        for _ in range(3):
            answers.append(await asyncio.to_thread(sock.recv, 4096))
        await listener.drain()
        sock.close()
        listener.close()
        writer.shutdown(wait=True)
        return answers, listener.stats

    answers, stats = run(scenario())
    assert sorted(a[1] for a in answers) == [0, 1, 2]
    assert stats[("start", "overload")] == 3 and stats[("start", "ok")] == 3
    assert sorted(r["session_key"] for r in store.radius_sessions()) == sorted(sk(f"v6-{n}") for n in range(3))
    assert {r["sender"] for r in store.radius_sessions()} == {"::1"}
    store.close()


def test_ingest_sniff_captures_live_accounting(tmp_path):
    """`netmon ingest sniff -i lo`: scapy captures requests going to another server (here: nobody) and the
    store keeps them, as on a mirror port. Needs root (raw capture) and tcpdump (compiles the filter)."""
    import os
    import subprocess
    import sys

    from netmon import lab as lab_mod
    from tests.conftest import VENV_BIN, require_tool

    require_tool("tcpdump")
    if os.geteuid() != 0:
        pytest.skip("capturing needs root or CAP_NET_RAW")
    port = lab_mod.free_udp_port()
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "privacy: {key: sniff-test-key-0123456789}\n"
        f"radius:\n  wlc: {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n"
    )
    secrets.chmod(0o600)
    exe = VENV_BIN / "netmon"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
    proc = subprocess.Popen(
        [*cmd, "--db", str(tmp_path / "n.db"), "--secrets", str(secrets), "ingest", "sniff", "-i", "lo",
         "--port", str(port), "--duration", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(4)  # scapy's start-up, then the capture socket
    import socket as socket_mod

    sock = socket_mod.socket(socket_mod.AF_INET, socket_mod.SOCK_DGRAM)
    for p in (request(codec.START, "live-1", 1, user_name=USER), request(codec.STOP, "live-1", 2, acct_session_time=5),
              request(codec.START, "live-2", 3, secret=b"forged")):  # fmt: skip
        sock.sendto(p, ("127.0.0.1", port))
    sock.close()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "2 stored, 0 duplicates, dropped: bad_authenticator 1" in out, out + err
    store = Store(tmp_path / "n.db", readonly=True)
    [row] = store.radius_sessions()
    store.close()
    assert row["session_key"] == sk("live-1", Pseudonymizer(b"sniff-test-key-0123456789"))
    assert row["stop"] is not None and row["session_time"] == 5


def test_one_unstorable_record_does_not_fail_the_batch(tmp_path):
    """A record SQLite refuses (here an octet count past 2^63-1, which the codec refuses too, so the record is
    built by hand) is rolled back alone and counted as store_error; the rest of its batch is stored."""
    from collections import Counter

    from collectors.radius.listener import Batch
    from netmon.store.radius import SessionSettings

    store = Store(tmp_path / "n.db")
    now = time.time()
    good = codec.AccountingRecord(nas="n", received=now, status=codec.START, session_id="fine")
    bad = codec.AccountingRecord(nas="n", received=now, status=codec.INTERIM_UPDATE, session_id="huge",
                                 input_octets=2**63, session_time=10)  # fmt: skip
    after = codec.AccountingRecord(nas="n", received=now, status=codec.START, session_id="after")
    batch = Batch([good, bad, after], Counter(), {})
    outcome = store.record_radius(batch, KEY, SessionSettings())
    assert outcome == {("start", "ok"): 2, ("interim-update", "store_error"): 1}
    assert batch.failed == {1}
    assert len(store.radius_sessions()) == 2
    assert {(r["type"], r["result"]): r["count"] for r in store.radius_packet_counts()}[
        ("interim-update", "store_error")
    ] == 1
    store.close()


def test_unstorable_record_is_not_answered_but_its_batch_is(tmp_path):
    """Over UDP: the record that failed gets no answer (its NAS retransmits), the others in its batch do."""
    import dataclasses

    holder: dict = {}
    poison = {"on": True}

    def commit(batch):
        if poison["on"]:  # what a value SQLite cannot hold would do to the record with this session id
            batch.records = [dataclasses.replace(r, input_octets=2**64) if r.session_id == "s-bad" else r
                             for r in batch.records]  # fmt: skip
        return holder["server"].record(batch)

    async def scenario():
        async with AccountingServer(tmp_path / "n.db", commit=commit) as server:
            holder["server"] = server
            nas = RawNas(server.port)
            packets = [request(codec.START, sid, n, user_name=USER) for n, sid in enumerate(["s-a", "s-bad", "s-b"])]
            for p in packets:
                nas.send(p)
            answers = []
            while (answer := await nas.receive(1.5)) is not None:
                answers.append(answer[1])
            poison["on"] = False
            nas.send(packets[1])  # the NAS's retransmission, once the cause is gone: stored and answered now
            retry = await nas.receive(3.0)
            nas.close()
            await server.listener.drain()
            return answers, retry, server.sessions(), server.packets()

    answers, retry, rows, packets = run(scenario())
    assert sorted(answers) == [0, 2]
    assert retry is not None and retry[1] == 1
    assert len(rows) == 3
    assert packets[("start", "store_error")] == 1 and packets[("start", "ok")] == 3


def _store_records(path: Path, records, interval: int = 600) -> Store:
    from collections import Counter

    from collectors.radius.listener import Batch
    from netmon.store.radius import SessionSettings

    store = Store(path)
    for r in records:
        store.record_radius(Batch([r], Counter(), {}), KEY, SessionSettings(interim_interval=interval))
    return store


def test_an_insane_interim_interval_is_not_kept(tmp_path):
    """Acct-Interim-Interval 0 (or anything under RFC 2869's 60 s) would time the session out at the first check
    and let every Interim reopen it: such a session gets the configured default instead."""
    t0 = 1_790_000_000.0
    records = [
        codec.AccountingRecord(nas="n", received=t0, status=codec.START, session_id=sid, interim_interval=interval)
        for sid, interval in (("zero", 0), ("thirty", 30), ("ten-minutes", 600))
    ]
    store = _store_records(tmp_path / "n.db", records)
    intervals = {
        k: r["interim_interval"] for k, r in by_id(store.radius_sessions(), "zero", "thirty", "ten-minutes").items()
    }
    with store.transaction() as conn:
        closed = close_timed_out(conn, t0 + 120, 600)
    rows = {k: r["stop"] for k, r in by_id(store.radius_sessions(), "zero", "thirty", "ten-minutes").items()}
    store.close()
    assert intervals == {"zero": None, "thirty": None, "ten-minutes": 600}
    assert closed == 0 and rows == {"zero": None, "thirty": None, "ten-minutes": None}


def test_idle_sessions_stay_open_while_interims_come(tmp_path):
    """A NAS that leaves out Acct-Session-Time and counters for an idle client: each in-order Interim still moves
    last_update (never backwards), so the session is not timed out while its Interims keep coming."""
    t0 = 1_790_000_000.0

    def rec(status, at, **kw):
        return codec.AccountingRecord(nas="n", received=at, status=status, session_id="idle", **kw)

    records = [rec(codec.START, t0)] + [rec(codec.INTERIM_UPDATE, t0 + 60 * n) for n in range(1, 6)]
    records.append(rec(codec.INTERIM_UPDATE, t0 + 100))  # late, out of order: changes nothing
    store = _store_records(tmp_path / "n.db", records, interval=60)
    [row] = store.radius_sessions()
    assert row["last_update"] == t0 + 300 and row["stop"] is None
    with store.transaction() as conn:
        assert close_timed_out(conn, t0 + 400, 60) == 0
        # Silent for more than 3 intervals: timed out; the next Interim (still no session time) reopens it,
        # rather than taking it for a reused Acct-Session-Id and opening a second row.
        assert close_timed_out(conn, t0 + 600, 60) == 1
    store.close()
    store = _store_records(tmp_path / "n.db", [rec(codec.INTERIM_UPDATE, t0 + 660)], interval=60)
    [row] = store.radius_sessions()
    packets = {(r["type"], r["result"]): r["count"] for r in store.radius_packet_counts()}
    store.close()
    assert (row["stop"], row["terminate_cause"], row["last_update"]) == (None, None, t0 + 660)
    assert packets[("interim-update", "ok")] == 6 and packets[("interim-update", "duplicate")] == 1


def test_controllers_under_one_declared_network_keep_their_own_sessions(tmp_path):
    """One declaration covering a network of controllers: each controller's session ids are its own, and its
    Accounting-On closes only its own sessions. The declared name stays the `nas` (metrics, status)."""
    nases = [Nas("wlc-pool", ipaddress.ip_network("127.0.0.0/29"), SECRET)]

    async def scenario():
        async with AccountingServer(tmp_path / "n.db", nases=nases) as server:
            a, b = RawNas(server.port, source="127.0.0.2"), RawNas(server.port, source="127.0.0.3")
            for n, sock in enumerate((a, b)):  # both number their sessions from 1 after a boot
                sock.send(request(codec.INTERIM_UPDATE, "1", n, acct_session_time=100 + n))
                assert await sock.receive(2.0) is not None
            a.send(request(codec.ACCOUNTING_ON, "", 9))  # 127.0.0.2 restarted
            assert await a.receive(2.0) is not None
            a.close()
            b.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    rows, packets = run(scenario())
    state = {r["sender"]: (r["nas"], r["session_key"], r["session_time"], r["terminate_cause"]) for r in rows}
    assert state == {
        "127.0.0.2": ("wlc-pool", sk("1"), 100, "NAS-Reboot"),
        "127.0.0.3": ("wlc-pool", sk("1"), 101, None),
    }
    assert packets[("interim-update", "ok")] == 2
