"""The native BER codec against pysnmp's, the reference: same bytes, same values, both directions."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1905
from pysnmp.proto.api import v2c

from collectors.snmp import ber
from collectors.snmp.pysnmp_engine import py_value

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

sub_id = st.integers(min_value=0, max_value=2**32 - 1)
# OIDs whose every sub-identifier fits one octet take the decoder's fast path; most of MIB-2 is like that.
small = st.tuples(st.integers(0, 1), st.integers(0, 39)).flatmap(
    lambda head: st.lists(st.integers(0, 127), max_size=24).map(lambda rest: head + tuple(rest))
)
oids = st.one_of(
    small,
    st.one_of(
        st.tuples(st.integers(0, 1), st.integers(0, 39)),
        st.tuples(st.just(2), st.integers(0, 2**32 - 81)),
    ).flatmap(lambda head: st.lists(sub_id, max_size=24).map(lambda rest: head + tuple(rest))),
)

values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(v2c.Integer32),
    st.binary(max_size=300).map(v2c.OctetString),
    oids.map(v2c.ObjectIdentifier),
    st.binary(min_size=4, max_size=4).map(v2c.IpAddress),
    st.integers(0, 2**32 - 1).map(v2c.Counter32),
    st.integers(0, 2**32 - 1).map(v2c.Gauge32),
    st.integers(0, 2**32 - 1).map(v2c.TimeTicks),
    st.integers(0, 2**64 - 1).map(v2c.Counter64),
    st.binary(max_size=40).map(v2c.Opaque),
    st.just(v2c.Null("")),
    st.just(rfc1905.noSuchObject),
    st.just(rfc1905.noSuchInstance),
    st.just(rfc1905.endOfMibView),
)


def pysnmp_response(community: bytes, request_id: int, status: int, index: int, varbinds) -> bytes:
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, community)
    pdu = P.ResponsePDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_error_status(pdu, status)
    P.apiPDU.set_error_index(pdu, index)
    P.apiPDU.set_varbinds(pdu, varbinds)
    P.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


@given(
    community=st.binary(max_size=64),
    request_id=st.integers(-(2**31), 2**31 - 1),
    status=st.integers(0, 18),
    index=st.integers(0, 100),
    varbinds=st.lists(st.tuples(oids, values), max_size=70),
)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_responses_decode_exactly_as_pysnmp(community, request_id, status, index, varbinds):
    index = min(index, len(varbinds))  # pysnmp refuses to read an error-index past the varbinds
    wire = pysnmp_response(community, request_id, status, index, varbinds)
    ours = ber.decode_message(wire)
    theirs, rest = decoder.decode(wire, asn1Spec=P.Message())
    assert rest == b""
    pdu = P.apiMessage.get_pdu(theirs)
    assert ours.version == ber.VERSION_2C
    assert ours.community == bytes(P.apiMessage.get_community(theirs))
    assert ours.pdu_type == ber.RESPONSE
    assert ours.request_id == int(P.apiPDU.get_request_id(pdu))
    assert (ours.error_status, ours.error_index) == (
        int(P.apiPDU.get_error_status(pdu)),
        int(P.apiPDU.get_error_index(pdu)),
    )
    expected = [(tuple(name), py_value(value)) for name, value in P.apiPDU.get_varbinds(pdu)]
    assert ours.varbinds == expected


@given(
    community=st.binary(max_size=64),
    request_id=st.integers(1, 2**31 - 1),
    bulk=st.booleans(),
    max_repetitions=st.integers(0, 200),
    names=st.lists(oids, min_size=1, max_size=40),
)
@settings(max_examples=300)
def test_requests_decode_in_pysnmp_as_meant(community, request_id, bulk, max_repetitions, names):
    pdu_type = ber.GET_BULK if bulk else ber.GET
    wire = ber.encode_request(community, pdu_type, request_id, names, 0, max_repetitions)
    msg, rest = decoder.decode(wire, asn1Spec=P.Message())
    assert rest == b""
    assert bytes(P.apiMessage.get_community(msg)) == community
    assert int(msg["version"]) == 1
    pdu = P.apiMessage.get_pdu(msg)
    assert int(P.apiPDU.get_request_id(pdu)) == request_id
    if bulk:
        assert pdu.isSameTypeWith(P.GetBulkRequestPDU())
        assert int(P.apiBulkPDU.get_non_repeaters(pdu)) == 0
        assert int(P.apiBulkPDU.get_max_repetitions(pdu)) == max_repetitions
    else:
        assert pdu.isSameTypeWith(P.GetRequestPDU())
    assert [tuple(n) for n, _ in P.apiPDU.get_varbinds(pdu)] == names
    assert ber.decode_message(wire).varbinds == [(n, None) for n in names]


@given(st.binary(max_size=400))
@settings(max_examples=1000)
def test_garbage_never_raises_anything_but_berror(data):
    try:
        ber.decode_message(data)
    except ber.BerError:
        pass


@given(varbinds=st.lists(st.tuples(oids, values), min_size=1, max_size=10), data=st.data())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_truncated_or_corrupted_responses_are_refused_cleanly(varbinds, data):
    wire = bytearray(pysnmp_response(b"public", 42, 0, 0, varbinds))
    cut = data.draw(st.integers(0, len(wire) - 1))
    try:
        ber.decode_message(bytes(wire[:cut]))
        raise AssertionError("a truncated message decoded")
    except ber.BerError:
        pass
    pos = data.draw(st.integers(0, len(wire) - 1))
    wire[pos] ^= data.draw(st.integers(1, 255))
    try:
        decoded = ber.decode_message(bytes(wire))
    except ber.BerError:
        return  # refused cleanly: the only exception a bad packet may raise
    # A flipped bit can leave a valid message, just a different one: then it must be whole.
    assert isinstance(decoded, ber.Message) and all(isinstance(oid, tuple) for oid, _ in decoded.varbinds)


def test_known_encoding():
    # GET sysName.0, community "public", request-id 0x1234, laid out by hand from RFC 3416 and X.690.
    wire = ber.encode_request(b"public", ber.GET, 0x1234, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    assert wire.hex() == "302702010104067075626c6963a01a02021234020100020100300e300c06082b060102010105000500"


@given(oids)
def test_oids_round_trip_through_either_decoding_path(oid):
    tlv = ber.encode_oid(oid)
    header = 2 if tlv[1] < 0x80 else 2 + (tlv[1] & 0x7F)  # short or long length form
    assert ber.decode_oid(tlv[header:]) == oid
