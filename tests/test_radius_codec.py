"""The fast RADIUS codec against scapy's RADIUS layer, the reference decoder: the same packet, the same reading."""

from __future__ import annotations

import hashlib
import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.radius import codec

scapy_radius = pytest.importorskip("scapy.layers.radius")
Radius = scapy_radius.Radius
SECRET = b"codec-secret"

_ints = st.integers(0, 2**32 - 1)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60).filter(
    lambda s: len(s.encode()) <= 253
)
STORED_ATTRIBUTE = st.one_of(
    st.tuples(st.sampled_from(sorted(codec.INTEGERS)), _ints),
    st.tuples(st.sampled_from(sorted(codec.STRINGS - {codec.ACCT_SESSION_ID})), _text),
    st.tuples(st.sampled_from(sorted(codec.ADDRESSES)), st.ip_addresses(v=4).map(lambda a: a.packed)),
)


def _scapy_sizes() -> dict[int, int]:
    """Attribute types scapy reads with a fixed-size field (ignoring the Length octet): their RFC sizes."""
    sizes = {}
    for kind, cls in scapy_radius.RadiusAttribute.registered_attributes.items():
        if not isinstance(kind, int):
            continue
        names = [type(f).__name__ for f in cls.fields_desc]
        if names[-1] in ("IntField", "IPField", "MultiEnumField"):
            sizes[kind] = 4
        elif names[-1] == "XStrFixedLenField":
            sizes[kind] = 16
    return sizes


FIXED = _scapy_sizes()
STRUCTURED = {codec.VENDOR_SPECIFIC, 79}  # a Vendor-Specific or EAP-Message: scapy parses what is inside


def _other_value(kind: int):
    if kind in FIXED:
        return st.binary(min_size=FIXED[kind], max_size=FIXED[kind])
    if kind == codec.VENDOR_SPECIFIC:  # RFC 2865 5.26: Vendor-Id, then vendor type, length, value
        vendors = st.one_of(_ints, st.sampled_from([14823, 25053]))
        return st.tuples(vendors, st.one_of(st.integers(0, 255), st.sampled_from([3, 5])), st.binary(max_size=40)).map(
            lambda v: struct.pack("!IBB", v[0], v[1], len(v[2]) + 2) + v[2]
        )
    return st.binary(min_size=0, max_size=60)


OTHER_ATTRIBUTE = (
    st.integers(0, 255)
    .filter(lambda k: k not in codec.STORED and k != 79)
    .flatmap(lambda k: st.tuples(st.just(k), _other_value(k)))
)


@st.composite
def accounting_requests(draw):
    attrs = [(codec.ACCT_STATUS_TYPE, draw(st.sampled_from(sorted(codec.STATUS_NAMES))))]
    attrs.append((codec.ACCT_SESSION_ID, draw(_text.filter(bool))))
    attrs += draw(st.lists(st.one_of(STORED_ATTRIBUTE, OTHER_ATTRIBUTE), max_size=25))
    draw(st.randoms()).shuffle(attrs)
    return codec.encode_request(attrs, SECRET, draw(st.integers(0, 255)))


def scapy_view(data: bytes) -> dict:
    """What scapy reads: header, each attribute's type, length and raw value, and the stored ones interpreted."""
    pkt = Radius(data)
    attributes, values = [], {}
    for a in pkt.attributes:
        raw = bytes(a)
        attributes.append((a.type, raw[2:]))
        vsa = (getattr(a, "vendor_id", None), getattr(a, "vendor_type", None))
        if a.type == codec.VENDOR_SPECIFIC and "ssid" not in values and vsa in codec.SSID_VSAS:
            values["ssid"] = bytes(a.value).decode("utf-8", "replace")
        if a.type in values:
            continue
        if a.type in codec.INTEGERS:
            values[a.type] = int(struct.unpack("!I", raw[2:])[0]) if not isinstance(a.value, int) else a.value
        elif a.type in codec.ADDRESSES:
            values[a.type] = str(ipaddress.IPv4Address(raw[2:]))
        elif a.type in codec.STRINGS:
            values[a.type] = raw[2:].decode("utf-8", "replace")
    return {
        "code": pkt.code,
        "identifier": pkt.id,
        "length": pkt.len,
        "authenticator": bytes(pkt.authenticator),
        "attributes": attributes,
        "values": values,
    }


def codec_view(data: bytes) -> dict:
    packet = codec.parse(data)
    r = codec.decode_accounting(packet, "nas", 0.0)
    by_kind = {
        codec.USER_NAME: r.user_name,
        codec.CALLED_STATION_ID: r.called_station,
        codec.CALLING_STATION_ID: r.calling_station,
        codec.NAS_IDENTIFIER: r.nas_identifier,
        codec.ACCT_SESSION_ID: r.session_id,
        codec.ACCT_MULTI_SESSION_ID: r.multi_session_id,
        codec.CHARGEABLE_USER_IDENTITY: r.cui,
        codec.OPERATOR_NAME: r.operator_name,
        codec.NAS_IP_ADDRESS: r.nas_ip,
        codec.FRAMED_IP_ADDRESS: r.framed_ip,
        codec.NAS_PORT: r.nas_port,
        codec.ACCT_STATUS_TYPE: r.status,
        codec.ACCT_DELAY_TIME: r.delay_time,
        codec.ACCT_SESSION_TIME: r.session_time,
        codec.ACCT_TERMINATE_CAUSE: r.terminate_cause,
        codec.EVENT_TIMESTAMP: r.event_timestamp,
        codec.ACCT_INTERIM_INTERVAL: r.interim_interval,
        "ssid": r.vendor_ssid,
    }
    return {
        "code": packet.code,
        "identifier": packet.identifier,
        "length": packet.length,
        "authenticator": packet.authenticator,
        "attributes": list(packet.attributes),
        "values": by_kind,
        "record": r,
    }


@settings(max_examples=300, deadline=None)
@given(accounting_requests())
def test_fast_decoder_reads_every_packet_as_scapy_does(data):
    ref = scapy_view(data)
    values = ref["values"]
    if any(values.get(high, 0) >= 2**31 for high in (codec.ACCT_INPUT_GIGAWORDS, codec.ACCT_OUTPUT_GIGAWORDS)):
        # An octet counter past 2^63-1 (SQLite's largest integer, 8 EiB): refused as malformed, not stored
        with pytest.raises(codec.Malformed) as err:
            codec_view(data)
        assert err.value.reason == "malformed"
        return
    ours = codec_view(data)
    for key in ("code", "identifier", "length", "authenticator", "attributes"):
        assert ours[key] == ref[key], key
    for kind, value in ref["values"].items():
        if kind in ours["values"]:
            assert ours["values"][kind] == value, kind
    assert ours["values"]["ssid"] == (ref["values"].get("ssid") or None)  # Aruba-Essid-Name, Ruckus-SSID
    r = ours["record"]
    # Octets: scapy's two 32-bit attributes, folded as RFC 2869 5.1/5.2 say.
    for low, high, folded in (
        (codec.ACCT_INPUT_OCTETS, codec.ACCT_INPUT_GIGAWORDS, r.input_octets),
        (codec.ACCT_OUTPUT_OCTETS, codec.ACCT_OUTPUT_GIGAWORDS, r.output_octets),
    ):
        if low in ref["values"] or high in ref["values"]:
            assert folded == (ref["values"].get(high, 0) << 32) + ref["values"].get(low, 0)
        else:
            assert folded is None
    assert codec.verify_request(data, SECRET) and not codec.verify_request(data, SECRET + b"x")


@settings(max_examples=300, deadline=None)
@given(accounting_requests(), st.data())
def test_damaged_packets_rejected_or_read_as_scapy_reads_them(data, draw):
    """Cut or flipped: the codec refuses it, or (when the framing still holds) reads what scapy reads."""
    damaged = bytearray(data)
    if draw.draw(st.booleans()):
        damaged = damaged[: draw.draw(st.integers(0, len(data) - 1))]
    else:
        i = draw.draw(st.integers(0, len(data) - 1))
        damaged[i] = draw.draw(st.integers(0, 255))
    damaged = bytes(damaged)
    try:
        packet = codec.parse(damaged)
    except codec.Malformed as exc:
        assert exc.reason in ("truncated", "malformed")
        return
    try:
        codec.decode_accounting(packet, "nas", 0.0)
    except codec.Malformed:
        return  # a stored attribute of the wrong size, no status type or session id: refused
    if any(k in STRUCTURED or len(v) != FIXED.get(k, len(v)) for k, v in packet.attributes):
        return  # scapy reads a fixed-size field whatever the Length octet says: it is the one misreading here
    ref = Radius(damaged[: packet.length])
    assert [(a.type, bytes(a)[2:]) for a in ref.attributes] == list(packet.attributes)


def test_response_authenticator_matches_rfc_2866():
    request = codec.encode_request([(codec.ACCT_STATUS_TYPE, codec.START), (codec.ACCT_SESSION_ID, "a")], SECRET, 42)
    response = codec.accounting_response(request, SECRET)
    assert response[:4] == bytes([5, 42, 0, 20])
    assert response[4:] == hashlib.md5(response[:4] + request[4:20] + SECRET, usedforsecurity=False).digest()
    assert codec.verify_response(response, request, SECRET)
    ref = Radius(response)
    assert (ref.code, ref.id, ref.len) == (5, 42, 20)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00-3A-A0-00-00-01:eduroam", ("00:3a:a0:00:00:01", "eduroam")),
        ("003AA0000001:eduroam", ("00:3a:a0:00:00:01", "eduroam")),
        ("00:3a:a0:00:00:01:City WiFi", ("00:3a:a0:00:00:01", "City WiFi")),
        ("003a.a000.0001:eduroam", ("00:3a:a0:00:00:01", "eduroam")),
        ("001A1E000000", ("00:1a:1e:00:00:00", None)),
        ("00-3A-A0-00-00-01:", ("00:3a:a0:00:00:01", None)),
        ("nas-identifier-text", (None, None)),
        ("", (None, None)),
    ],
)
def test_called_station_split(value, expected):
    assert codec.split_called_station(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.booleans())
def test_octet_counters_fold_or_are_refused(low, gigawords, output):
    """Gigawords fold into a 64-bit count that SQLite can hold; beyond 2^63-1 the packet is malformed."""
    kinds = (codec.ACCT_OUTPUT_OCTETS, codec.ACCT_OUTPUT_GIGAWORDS) if output else (
        codec.ACCT_INPUT_OCTETS, codec.ACCT_INPUT_GIGAWORDS)  # fmt: skip
    attrs = [(codec.ACCT_STATUS_TYPE, codec.INTERIM_UPDATE), (codec.ACCT_SESSION_ID, "g"),
             (kinds[0], low), (kinds[1], gigawords)]  # fmt: skip
    packet = codec.parse(codec.encode_request(attrs, SECRET, 1))
    value = (gigawords << 32) + low
    if value > 2**63 - 1:
        with pytest.raises(codec.Malformed):
            codec.decode_accounting(packet, "nas", 0.0)
    else:
        r = codec.decode_accounting(packet, "nas", 0.0)
        assert (r.output_octets if output else r.input_octets) == value
