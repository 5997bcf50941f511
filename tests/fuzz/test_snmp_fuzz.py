"""SNMP answers from the network: the BER codec, USM, and the native transport's answer matching."""

from __future__ import annotations

import asyncio

from hypothesis import given

from collectors.snmp import ber, usm
from collectors.snmp.native import NativeTransport
from tests.fuzz import FUZZ, inputs

SEEDS = [
    ber.encode_request(b"public", ber.RESPONSE, 0x1234, [(1, 3, 6, 1, 2, 1, 1, 5, 0), (1, 3, 6, 1, 2, 1, 1, 3, 0)]),
    ber.encode_request(b"public", ber.GET_BULK, 7, [(1, 3, 6, 1, 2, 1, 2, 2, 1, 10)], 0, 25),
    usm.encode_message(
        42,
        usm.FLAG_REPORTABLE,
        b"\x80\x00\x1f\x88\x04netmon",
        3,
        1000,
        b"user",
        usm.scoped_pdu(b"", b"", ber.encode_pdu(ber.GET, 1, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])),
    ),
]


@FUZZ
@given(inputs(SEEDS))
def test_ber_refuses_or_decodes(data):
    try:
        version = ber.message_version(data)
        message = ber.decode_message(data) if version != 3 else usm.decode_message(data)
    except ber.BerError:
        return
    assert message is not None


@FUZZ
@given(inputs(SEEDS))
def test_usm_refuses_or_decodes(data):
    try:
        message = usm.decode_message(data)
    except ber.BerError:
        return
    if message.flags & usm.FLAG_AUTH:
        assert usm.verify_mac(data, message, "sha", b"\x00" * 20) in (True, False)


@FUZZ
@given(inputs(SEEDS))
def test_the_transport_drops_what_it_cannot_match_and_counts_it(data):
    """Whatever arrives with no request waiting is dropped and counted by reason; nothing escapes."""

    async def go():
        transport = NativeTransport()
        transport.received(data, ("127.0.0.1", 161))
        return transport.take_drops()

    drops = asyncio.run(go())
    assert sum(drops.values()) == 1 and set(drops) <= {"malformed", "unknown_request_id"}
