"""A small BER codec for SNMPv1/v2c messages: what a poller sends and what it gets back.

Why our own: pysnmp decodes each varbind through pyasn1's generic machinery
(~200 us of CPU per varbind here), which at city scale (290 switches x 48
ports x 16 columns every minute) would keep most of a core busy decoding.
SNMPv2c messages need eight tags and two length forms; this module handles
exactly those, strictly, and refuses anything else with :class:`BerError`.
SNMPv3 (USM authentication and privacy) stays with pysnmp.

``tests/test_ber.py`` checks, with hypothesis, that every message pysnmp
encodes decodes here to the same values pysnmp's own decoder gives, and
that every request encoded here decodes in pysnmp to what we meant.

Values come out as plain Python, the same mapping as the pysnmp session:
INTEGER, Counter32, Gauge32, TimeTicks, Counter64 -> ``int``; OCTET STRING,
IpAddress, Opaque -> ``bytes``; OBJECT IDENTIFIER -> ``tuple``; NULL,
noSuchObject, noSuchInstance -> ``None``; endOfMibView -> :data:`END_OF_MIB_VIEW`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.snmp.api import END_OF_MIB_VIEW, GET, GET_BULK, OID

# PDU tags (RFC 3416; GET and GET_BULK, what a session sends, come from the API)
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
REPORT = 0xA8

# Value tags
T_INTEGER = 0x02
T_OCTET_STRING = 0x04
T_NULL = 0x05
T_OID = 0x06
T_SEQUENCE = 0x30
T_IPADDRESS = 0x40
T_COUNTER32 = 0x41
T_GAUGE32 = 0x42
T_TIMETICKS = 0x43
T_OPAQUE = 0x44
T_COUNTER64 = 0x46
T_NO_SUCH_OBJECT = 0x80
T_NO_SUCH_INSTANCE = 0x81
T_END_OF_MIB_VIEW = 0x82

VERSION_1 = 0
VERSION_2C = 1

_UNSIGNED_LIMIT = {T_COUNTER32: 2**32, T_GAUGE32: 2**32, T_TIMETICKS: 2**32, T_COUNTER64: 2**64}


class BerError(ValueError):
    """The bytes are not an SNMPv1/v2c message we accept."""


@dataclass(frozen=True, slots=True)
class Message:
    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[OID, object]]


# -- encoding -------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_integer(value: int) -> bytes:
    return _tlv(T_INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: Sequence[int]) -> bytes:
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise BerError(f"cannot encode OID {oid!r}")
    out = bytearray()
    for sub in (oid[0] * 40 + oid[1], *oid[2:]):
        if sub < 0:
            raise BerError(f"negative sub-identifier in {oid!r}")
        if sub < 0x80:
            out.append(sub)
            continue
        chunk = []
        while sub:
            chunk.append(sub & 0x7F)
            sub >>= 7
        chunk.reverse()
        out.extend(c | 0x80 for c in chunk[:-1])
        out.append(chunk[-1])
    return _tlv(T_OID, bytes(out))


def encode_octets(value: bytes) -> bytes:
    return _tlv(T_OCTET_STRING, value)


def encode_sequence(*parts: bytes) -> bytes:
    return _tlv(T_SEQUENCE, b"".join(parts))


def encode_pdu(
    pdu_type: int, request_id: int, oids: Sequence[Sequence[int]], non_repeaters: int = 0, max_repetitions: int = 0
) -> bytes:
    """A GetRequest, GetNextRequest or GetBulkRequest PDU with NULL values."""
    null = b"\x05\x00"
    varbinds = b"".join(_tlv(T_SEQUENCE, encode_oid(o) + null) for o in oids)
    if pdu_type == GET_BULK:
        head = encode_integer(non_repeaters) + encode_integer(max_repetitions)
    else:
        head = encode_integer(0) + encode_integer(0)
    return _tlv(pdu_type, encode_integer(request_id) + head + _tlv(T_SEQUENCE, varbinds))


def encode_request(
    community: bytes,
    pdu_type: int,
    request_id: int,
    oids: Sequence[Sequence[int]],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
    version: int = VERSION_2C,
) -> bytes:
    """An SNMPv1/v2c message carrying :func:`encode_pdu`."""
    pdu = encode_pdu(pdu_type, request_id, oids, non_repeaters, max_repetitions)
    return _tlv(T_SEQUENCE, encode_integer(version) + _tlv(T_OCTET_STRING, community) + pdu)


# -- decoding -------------------------------------------------------------------


def read_header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the TLV at ``pos``; bounds-checked against ``end``."""
    if pos + 2 > end:
        raise BerError("truncated")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BerError("bad length")
        n = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + n > end:
        raise BerError("truncated")
    return tag, pos, pos + n


def expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = read_header(data, pos, end)
    if got != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def decode_int(data: bytes, start: int, stop: int) -> int:
    if start == stop:
        raise BerError("empty INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True)


def decode_oid(body: bytes) -> OID:
    if not body:
        raise BerError("empty OID")
    if body.isascii():
        # Every sub-identifier below 128 is one octet (most of MIB-2): let C build the list, 4x faster.
        out = list(body)
    else:
        out = []
        sub = 0
        for byte in body:
            sub = (sub << 7) | (byte & 0x7F)
            if not byte & 0x80:
                out.append(sub)
                sub = 0
        if body[-1] & 0x80:
            raise BerError("OID ends inside a sub-identifier")
    # SNMP sub-identifiers are 32-bit (RFC 2578 section 3.5); the first packs two arcs.
    if out[0] > 2**32 + 79 or max(out[1:], default=0) > 2**32 - 1:
        raise BerError("OID sub-identifier above 2**32 - 1")
    first = out[0]
    if first < 40:
        return (0, first, *out[1:])
    if first < 80:
        return (1, first - 40, *out[1:])
    return (2, first - 80, *out[1:])


def _value(tag: int, data: bytes, start: int, stop: int):
    if tag == T_INTEGER:
        return decode_int(data, start, stop)
    if tag in _UNSIGNED_LIMIT:
        if start == stop:
            raise BerError("empty number")
        limit = _UNSIGNED_LIMIT[tag]
        if stop - start == (limit.bit_length() - 1) // 8 and data[start] & 0x80:
            # Some agents drop the leading 0x00 of an unsigned value with its top bit set
            # (41 04 ff ff ff fe); Net-SNMP reads them as unsigned, and so do we.
            return int.from_bytes(data[start:stop], "big")
        value = int.from_bytes(data[start:stop], "big", signed=True)
        if not 0 <= value < limit:
            raise BerError(f"value out of range for tag 0x{tag:02x}")
        return value
    if tag in (T_OCTET_STRING, T_OPAQUE):
        return data[start:stop]
    if tag == T_IPADDRESS:
        if stop - start != 4:
            raise BerError("IpAddress must be 4 octets")
        return data[start:stop]
    if tag == T_OID:
        return decode_oid(data[start:stop])
    if tag in (T_NULL, T_NO_SUCH_OBJECT, T_NO_SUCH_INSTANCE, T_END_OF_MIB_VIEW):
        if start != stop:
            raise BerError("non-empty NULL")
        return END_OF_MIB_VIEW if tag == T_END_OF_MIB_VIEW else None
    raise BerError(f"unsupported value tag 0x{tag:02x}")


@dataclass(frozen=True, slots=True)
class Pdu:
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[OID, object]]


def decode_pdu(data: bytes, pos: int, end: int) -> tuple[Pdu, int]:
    """Decode the PDU at ``pos``; return it and the offset just after it."""
    pdu_type, pdu_start, pdu_stop = read_header(data, pos, end)
    if pdu_type not in (GET, GET_NEXT, RESPONSE, SET, GET_BULK, REPORT):
        raise BerError(f"unexpected PDU 0x{pdu_type:02x}")
    s, e = expect(data, pdu_start, pdu_stop, T_INTEGER)
    request_id = decode_int(data, s, e)
    s, e = expect(data, e, pdu_stop, T_INTEGER)
    error_status = decode_int(data, s, e)
    s, e = expect(data, e, pdu_stop, T_INTEGER)
    error_index = decode_int(data, s, e)
    pos, list_stop = expect(data, e, pdu_stop, T_SEQUENCE)
    if list_stop != pdu_stop:
        raise BerError("trailing bytes after varbind list")
    varbinds = []
    while pos < list_stop:
        vb_start, vb_stop = expect(data, pos, list_stop, T_SEQUENCE)
        s, e = expect(data, vb_start, vb_stop, T_OID)
        oid = decode_oid(data[s:e])
        tag, vs, ve = read_header(data, e, vb_stop)
        if ve != vb_stop:
            raise BerError("trailing bytes in varbind")
        varbinds.append((oid, _value(tag, data, vs, ve)))
        pos = vb_stop
    return Pdu(pdu_type, request_id, error_status, error_index, varbinds), pdu_stop


def message_version(data: bytes) -> int:
    """The msgVersion of an SNMP message (0 v1, 1 v2c, 3 v3), read without decoding the rest."""
    start, stop = expect(data, 0, len(data), T_SEQUENCE)
    s, e = expect(data, start, stop, T_INTEGER)
    return decode_int(data, s, e)


def decode_message(data: bytes) -> Message:
    """Decode a whole SNMPv1/v2c message; raise :class:`BerError` on anything malformed."""
    end = len(data)
    start, stop = expect(data, 0, end, T_SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after message")
    s, e = expect(data, start, stop, T_INTEGER)
    version = decode_int(data, s, e)
    if version not in (VERSION_1, VERSION_2C):
        raise BerError(f"not SNMPv1/v2c (version {version})")
    s, e = expect(data, e, stop, T_OCTET_STRING)
    community = data[s:e]
    pdu, pdu_stop = decode_pdu(data, e, stop)
    if pdu_stop != stop:
        raise BerError("trailing bytes after PDU")
    return Message(version, community, pdu.pdu_type, pdu.request_id, pdu.error_status, pdu.error_index, pdu.varbinds)
