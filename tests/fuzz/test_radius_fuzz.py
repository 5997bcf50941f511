"""RADIUS Accounting-Requests from the network: framing, decoding, the listener's checks, the F-Ticks parser."""

from __future__ import annotations

import ipaddress
import time

from hypothesis import given
from hypothesis import strategies as st

from collectors.credentials import Nas
from collectors.radius import codec, fticks
from collectors.radius.listener import Dropped, NasTable, accept
from tests.fuzz import FUZZ, inputs, mutated

SECRET = b"fuzz-secret-0123"
NASES = NasTable([Nas("nas", ipaddress.ip_network("127.0.0.1/32"), SECRET)])


def _request(status, **attrs) -> bytes:
    items = [(codec.ACCT_STATUS_TYPE, status), (codec.ACCT_SESSION_ID, "s-1")]
    items += [(getattr(codec, k.upper()), v) for k, v in attrs.items()]
    return codec.encode_request(items, SECRET, 9)


SEEDS = [
    _request(codec.START, user_name="alice@uni.example", calling_station_id="00-11-22-33-44-55",
             called_station_id="00-3A-A0-00-00-01:eduroam"),
    _request(codec.INTERIM_UPDATE, acct_session_time=600, acct_input_octets=10**6, acct_input_gigawords=1),
    _request(codec.STOP, acct_session_time=1200, acct_terminate_cause=1, event_timestamp=int(time.time())),
]  # fmt: skip


@FUZZ
@given(inputs(SEEDS, 4096))
def test_accept_refuses_with_a_reason_or_gives_a_sane_record(data):
    try:
        _nas, _packet, record = accept(data, "127.0.0.1", NASES, time.time())
    except Dropped as drop:
        assert drop.reason and drop.kind
        return
    assert codec.implausible(record) is None
    for octets in (record.input_octets, record.output_octets):
        assert octets is None or 0 <= octets <= codec.MAX_OCTETS


@FUZZ
@given(inputs(SEEDS, 4096))
def test_unverified_decoding_refuses_only_as_malformed(data):
    try:
        packet = codec.parse(data)
        codec.decode_accounting(packet, "nas", time.time())
    except codec.Malformed as exc:
        assert exc.reason in ("truncated", "malformed", "not_accounting")


LINES = [
    f"F-TICKS/eduroam/1.0#REALM=uni.example#VISCOUNTRY=NL#VISINST=1campus.example#CSI={csi}#RESULT=OK#".encode()
    for csi in ("3c-22-fb-12-34-56", "a" * 64)
] + [b"<13>Oct  6 11:28:26 radius1 fticks: message repeated 3 times: [ F-TICKS/eduroam/1.0#REALM=x.org#RESULT=FAIL#]"]
_MAC_LIKE = st.from_regex(r"(?i)[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}", fullmatch=True)


@FUZZ
@given(st.one_of(mutated(LINES), st.binary(max_size=600)))
def test_fticks_lines_refuse_or_keep_only_sane_fields(data):
    line = data.decode("utf-8", "replace")
    try:
        event = fticks.parse_line(line, now=1_700_000_000.0)
    except fticks.FTicksError as exc:
        assert len(str(exc)) < 200
        return
    if event is None:
        return
    assert 1 <= event.repeat <= fticks.MAX_REPEAT and event.result in fticks.RESULTS
    assert "." in event.realm and " " not in event.realm
    assert event.viscountry is None or (len(event.viscountry) == 2 and event.viscountry.isalpha())
    assert event.visinst is None or ("." in event.visinst and ":" not in event.visinst)


@FUZZ
@given(st.lists(st.one_of(mutated(LINES), st.binary(max_size=600)), max_size=20))
def test_the_syslog_listener_never_raises_and_counts_everything(datagrams):
    import asyncio

    async def go():
        listener = fticks.FTicksSyslogListener(lambda *a: None, None)
        listener._schedule = lambda: None  # look at what would be committed, without a writer
        for n, data in enumerate(datagrams):
            listener.datagram_received(data, (f"127.0.0.{n % 3 + 1}", 514))
        return listener

    listener = asyncio.run(go())
    assert listener.received == len(datagrams)
    taken = len(datagrams) - sum(listener._dropped.values())
    assert all(isinstance(e, fticks.FTicksEvent) for e in listener._events) and taken >= 0
