"""RADIUS and F-Ticks against recorded data: Arkime's accounting capture, CESNET's and a parser's F-Ticks lines.

``radius/arkime/radius.pcap`` holds one Aruba Accounting-Request (Interim-
Update) and its response; ``radius.test`` is what Arkime decoded from it.
scapy reads the capture, netmon's codec decodes the request into the same
fields, and the packet is replayed over loopback to netmon's listener: as
recorded (authenticator zeroed by the anonymisation: dropped as forged), then
signed with a test secret (stored, with only pseudonyms of what Arkime saw).
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from collectors.radius import codec, fticks
from netmon.privacy import normal_mac
from netmon.store.radius import session_pseudonym
from tests.conformance import FIXTURES, MISSING_REASON
from tests.radius_peers import KEY, SECRET, AccountingServer, RawNas

RADIUS = FIXTURES / "radius"


def _require(path):
    if not FIXTURES.is_dir():
        pytest.skip(MISSING_REASON)
    if not path.exists():
        pytest.skip(f"{path} not found")


@pytest.fixture(scope="module")
def arkime():
    _require(RADIUS / "arkime" / "radius.pcap")
    scapy_all = pytest.importorskip("scapy.all")
    from scapy.layers.radius import Radius

    packets = [p for p in scapy_all.rdpcap(str(RADIUS / "arkime" / "radius.pcap")) if Radius in p]
    expected = json.loads((RADIUS / "arkime" / "radius.test").read_text())["sessions3"][0]["body"]
    return packets, expected, Radius


def test_arkime_capture_decodes_to_arkimes_fields(arkime):
    packets, expected, Radius = arkime
    want = expected["radius"]
    kinds = {1: "access-request", 4: "accounting-request", 5: "accounting-response"}
    assert [kinds[p[Radius].code] for p in packets] == want["msgType"]
    request = bytes(packets[0][Radius])
    record = codec.decode_accounting(codec.parse(request), "aruba", 0.0)
    assert [record.user_name] == want["user"]
    assert [record.framed_ip] == want["framedIp"]
    assert [record.nas_ip] == want["nasIp"]
    assert [record.nas_port] == want["nasPort"]
    assert [normal_mac(record.calling_station)] == want["mac"]
    assert record.status == codec.INTERIM_UPDATE
    aruba_essid = next(a for a in packets[0][Radius].attributes if a.type == 26 and a.vendor_type == 5)
    assert record.vendor_ssid == aruba_essid.value.decode()  # Aruba-Essid-Name: the SSID Aruba does not put
    # The same attributes, one by one, as scapy reads them.
    assert list(codec.parse(request).attributes) == [(a.type, bytes(a)[2:]) for a in packets[0][Radius].attributes]


def test_arkime_capture_replayed_to_the_listener(arkime, tmp_path):
    packets, expected, Radius = arkime
    want = expected["radius"]
    recorded = bytes(packets[0][Radius])
    # Re-signed with the test secret: the anonymisation zeroed the authenticator.
    body = recorded[codec.HEADER :]
    signed = bytearray(recorded[:4] + bytes(16) + body)
    signed[4:20] = codec.request_authenticator(bytes(signed), SECRET)

    async def scenario():
        async with AccountingServer(tmp_path / "n.db") as server:
            nas = RawNas(server.port)
            nas.send(recorded)
            assert await nas.receive(0.5) is None
            nas.send(bytes(signed))
            answer = await nas.receive(3.0)
            assert answer is not None and codec.verify_response(answer, bytes(signed), SECRET)
            nas.close()
            await server.listener.drain()
            return server.sessions(), server.packets()

    [row], counts = asyncio.run(scenario())
    assert counts == {("unknown", "bad_authenticator"): 1, ("interim-update", "ok"): 1}
    assert row["user"] == KEY.user(want["user"][0]) and row["realm"] is None
    assert row["framed_ip"] == KEY.address(want["framedIp"][0])
    assert row["client"] == KEY.mac(want["mac"][0])
    assert row["session_time"] == 177620 and row["input_octets"] == 5366178 and row["output_octets"] == 84869322
    assert row["ap_mac"] == "00:1a:1e:00:00:00" and row["ssid"] == "xxx-employee" and row["eduroam"] == 0
    record = codec.decode_accounting(codec.parse(recorded), "aruba", 0.0)
    assert record.session_key.endswith("985AEB898000-0000009703")  # Acct-Session-Id | Acct-Multi-Session-Id
    assert row["session_key"] == session_pseudonym(KEY, record.session_key)  # stored only as a keyed hash


def test_fticks_fixture_lines_parse_into_events():
    folder = RADIUS / "fticks"
    _require(folder)
    files = sorted(folder.glob("*.txt"))
    assert files
    total = 0
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        parsed = fticks.parse_lines(lines, now=0.0)
        assert parsed.malformed == [], (path.name, parsed.malformed)
        fticks_lines = [line for line in lines if "F-TICKS/" in line and not line.startswith("#")]
        assert len(parsed.events) == len(fticks_lines)
        for line, event in zip(fticks_lines, parsed.events, strict=True):
            # checked against the raw text, independently of the parser's own splitting
            assert event.realm == re.search(r"#REALM=([^#]+)", line).group(1).lower()
            assert event.result == re.search(r"#RESULT=([A-Z]+)", line).group(1)
            repeated = re.search(r"message repeated (\d+) times", line)
            assert event.repeat == (int(repeated.group(1)) if repeated else 1)
            assert "PN" not in repr(event) and "@" not in repr(event)
        total += len(parsed.events)
    assert total >= 10


def test_arkime_capture_through_netmon_ingest_pcap(arkime, tmp_path):
    """The capture as recorded, through `netmon ingest pcap --no-verify` (its authenticators were zeroed)."""
    from netmon.store import Store
    from tests.conftest import run_netmon

    _, expected, _ = arkime
    want = expected["radius"]
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "privacy: {key: conformance-key-0123456789}\n"
        f"radius:\n  aruba: {{address: {want['nasIp'][0]}, secret: unknown-secret}}\n"
    )
    secrets.chmod(0o600)
    capture = str(RADIUS / "arkime" / "radius.pcap")
    db = tmp_path / "n.db"
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "pcap", capture)
    assert r.returncode == 0 and "0 stored" in r.stdout and "bad_authenticator 1" in r.stdout, r.stdout + r.stderr
    r = run_netmon("--db", str(db), "--secrets", str(secrets), "ingest", "pcap", "--no-verify", capture)
    assert r.returncode == 0 and "1 stored" in r.stdout, r.stdout + r.stderr
    store = Store(db, readonly=True)
    [row] = store.radius_sessions()
    store.close()
    assert row["start"] == pytest.approx(expected["firstPacket"] / 1000 - 177620, abs=1)
    assert row["session_time"] == 177620 and row["input_octets"] == 5366178
