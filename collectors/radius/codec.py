"""RADIUS accounting on the wire: verify, decode what netmon stores, build answers.

scapy's RADIUS layer is the reference decoder (``tests/test_radius_codec.py``
proves, with hypothesis, that this module decodes every generated packet as
scapy does), but it costs about 1 ms a packet. A controller failover makes a
campus re-send tens of thousands of Starts at once, so the hot path here
reads the header, checks the Request Authenticator (one MD5) and walks the
attribute list once, keeping only the attributes a session needs.

The record carries raw personal data (user name, MACs, addresses) from the
wire to the store, which keeps only pseudonyms: its ``repr`` hides them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import re
import struct
from dataclasses import dataclass, field

ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
HEADER = 20
MAX_LENGTH = 4096  # RFC 2865 3: longer packets are invalid
MAX_OCTETS = 2**63 - 1  # SQLite's largest INTEGER; octets with gigawords folded in above it are malformed
# What an accounting record may claim before it is not believed (see implausible()): a session of at most a
# year (Acct-Session-Time 2^32-1 would start it in 1890), a NAS that kept a record for at most 31 days
# (Acct-Delay-Time), and no client moving more than 100 Gb/s over its session.
MAX_SESSION_TIME = 366 * 86400
MAX_DELAY_TIME = 31 * 86400
MAX_LINE_RATE = 100e9 / 8  # octets a second
RATE_SLACK = 60  # seconds: counters and Acct-Session-Time are read at slightly different instants

# Attribute types (RFC 2865, 2866, 2869, 4372, 5580)
USER_NAME = 1
NAS_IP_ADDRESS = 4
NAS_PORT = 5
FRAMED_IP_ADDRESS = 8
CLASS = 25
VENDOR_SPECIFIC = 26
CALLED_STATION_ID = 30
CALLING_STATION_ID = 31
NAS_IDENTIFIER = 32
ACCT_STATUS_TYPE = 40
ACCT_DELAY_TIME = 41
ACCT_INPUT_OCTETS = 42
ACCT_OUTPUT_OCTETS = 43
ACCT_SESSION_ID = 44
ACCT_SESSION_TIME = 46
ACCT_INPUT_PACKETS = 47
ACCT_OUTPUT_PACKETS = 48
ACCT_TERMINATE_CAUSE = 49
ACCT_MULTI_SESSION_ID = 50
ACCT_INPUT_GIGAWORDS = 52
ACCT_OUTPUT_GIGAWORDS = 53
EVENT_TIMESTAMP = 55
NAS_PORT_TYPE = 61
ACCT_INTERIM_INTERVAL = 85
CHARGEABLE_USER_IDENTITY = 89
FRAMED_IPV6_ADDRESS = 168
OPERATOR_NAME = 126

# Acct-Status-Type
START, STOP, INTERIM_UPDATE, ACCOUNTING_ON, ACCOUNTING_OFF = 1, 2, 3, 7, 8
STATUS_NAMES = {
    START: "start",
    STOP: "stop",
    INTERIM_UPDATE: "interim-update",
    ACCOUNTING_ON: "accounting-on",
    ACCOUNTING_OFF: "accounting-off",
}
TERMINATE_CAUSES = {
    1: "User-Request", 2: "Lost-Carrier", 3: "Lost-Service", 4: "Idle-Timeout", 5: "Session-Timeout",
    6: "Admin-Reset", 7: "Admin-Reboot", 8: "Port-Error", 9: "NAS-Error", 10: "NAS-Request", 11: "NAS-Reboot",
    12: "Port-Unneeded", 13: "Port-Preempted", 14: "Port-Suspended", 15: "Service-Unavailable", 16: "Callback",
    17: "User-Error", 18: "Host-Request", 19: "Supplicant-Restart", 20: "Reauthentication-Failure",
    21: "Port-Reinit", 22: "Port-Disabled",
}  # fmt: skip

# Attributes stored as 32-bit integers: any other length is a malformed packet.
INTEGERS = frozenset(
    {
        NAS_PORT,
        ACCT_STATUS_TYPE,
        ACCT_DELAY_TIME,
        ACCT_INPUT_OCTETS,
        ACCT_OUTPUT_OCTETS,
        ACCT_SESSION_TIME,
        ACCT_TERMINATE_CAUSE,
        ACCT_INPUT_GIGAWORDS,
        ACCT_OUTPUT_GIGAWORDS,
        EVENT_TIMESTAMP,
        ACCT_INTERIM_INTERVAL,
    }
)
ADDRESSES = frozenset({NAS_IP_ADDRESS, FRAMED_IP_ADDRESS})
STRINGS = frozenset(
    {
        USER_NAME,
        CALLED_STATION_ID,
        CALLING_STATION_ID,
        NAS_IDENTIFIER,
        ACCT_SESSION_ID,
        ACCT_MULTI_SESSION_ID,
        CHARGEABLE_USER_IDENTITY,
        OPERATOR_NAME,
    }
)
STORED = INTEGERS | ADDRESSES | STRINGS | {FRAMED_IPV6_ADDRESS}
# Controllers that keep the SSID out of Called-Station-Id send it in a vendor attribute (vendor id, type).
SSID_VSAS = {(14823, 5): "Aruba-Essid-Name", (25053, 3): "Ruckus-SSID"}
_UINT32 = struct.Struct("!I")
_HEAD = struct.Struct("!BBH16s")


class Malformed(ValueError):
    """Not a packet netmon can use. ``reason`` is the drop counter's label: truncated or malformed."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Packet:
    """A RADIUS packet as sent: header and every attribute (type, raw value), in order."""

    code: int
    identifier: int
    length: int
    authenticator: bytes
    attributes: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One verified Accounting-Request, decoded: the typed observation the listener hands to the store.

    Raw personal data stays out of ``repr`` (logs, tracebacks); the store keeps only pseudonyms.
    """

    nas: str  # the declared NAS name (secrets file), not anything the packet claims
    received: float  # unix time the packet arrived
    status: int  # Acct-Status-Type
    source: str = ""  # the UDP source address (one controller, when a declaration covers a network)
    session_id: str = ""
    multi_session_id: str = ""
    user_name: str | None = field(default=None, repr=False)
    calling_station: str | None = field(default=None, repr=False)
    called_station: str | None = None
    framed_ip: str | None = field(default=None, repr=False)
    nas_ip: str | None = None
    nas_port: int | None = None
    nas_identifier: str | None = None
    operator_name: str | None = field(default=None, repr=False)
    cui: str | None = field(default=None, repr=False)
    input_octets: int | None = None  # gigawords folded in
    output_octets: int | None = None
    session_time: int | None = None
    terminate_cause: int | None = None
    delay_time: int = 0
    event_timestamp: int | None = None
    interim_interval: int | None = None
    vendor_ssid: str | None = None  # from a vendor attribute (SSID_VSAS), when Called-Station-Id has none

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, "other")

    @property
    def session_key(self) -> str:
        """Acct-Session-Id, plus Acct-Multi-Session-Id when present (RFC 2866 5.11).

        Raw: some NAS put the client's MAC in it (Cisco AireOS: ``5c8a1b2e/00:11:22:33:44:55/123``), so the
        store keeps only a keyed hash of it.
        """
        return f"{self.session_id}|{self.multi_session_id}" if self.multi_session_id else self.session_id

    @property
    def event_time(self) -> float:
        """When the NAS says it happened: Event-Timestamp if plausible, else arrival minus Acct-Delay-Time.

        Both stay the same in a retransmission, so a duplicate maps to the same instant.
        """
        if self.event_timestamp is not None and abs(self.event_timestamp - self.received) < 86400:
            return float(self.event_timestamp)
        return self.received - self.delay_time


def implausible(record: AccountingRecord) -> str | None:
    """Why the record cannot be believed, or None. Such a record is not stored, so (RFC 2866 section 2) not
    answered: the NAS retries, then gives up, and the session times out instead of starting in 1890 or moving
    exabytes."""
    if record.session_time is not None and record.session_time > MAX_SESSION_TIME:
        return f"Acct-Session-Time {record.session_time} s is over a year"
    if record.delay_time > MAX_DELAY_TIME:
        return f"Acct-Delay-Time {record.delay_time} s is over 31 days"
    if record.session_time is not None:
        bound = MAX_LINE_RATE * (record.session_time + RATE_SLACK)
        for name, octets in (("Input", record.input_octets), ("Output", record.output_octets)):
            if octets is not None and octets > bound:
                return f"Acct-{name}-Octets beyond 100 Gb/s over the session's {record.session_time} s"
    return None


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()  # RFC 2866 fixes MD5; not our choice


def parse(data: bytes) -> Packet:
    """Split a packet into header and attributes; raise :class:`Malformed` when the framing is wrong.

    Octets beyond the Length field are padding and ignored (RFC 2865 3); a Length beyond the datagram,
    an attribute running past the end, or one shorter than its own header is an error.
    """
    size = len(data)
    if size < HEADER:
        raise Malformed("truncated", f"{size} octets, shorter than a RADIUS header")
    code, identifier, length, authenticator = _HEAD.unpack_from(data)
    if length < HEADER or length > MAX_LENGTH:
        raise Malformed("malformed", f"Length field {length} outside 20..4096")
    if length > size:
        raise Malformed("truncated", f"Length field {length} but only {size} octets arrived")
    attributes = []
    pos = HEADER
    while pos < length:
        if pos + 2 > length:
            raise Malformed("truncated", "attribute header cut off")
        kind, alen = data[pos], data[pos + 1]
        if alen < 2:
            raise Malformed("malformed", f"attribute {kind} with length {alen}")
        end = pos + alen
        if end > length:
            raise Malformed("truncated", f"attribute {kind} runs past the packet's end")
        attributes.append((kind, data[pos + 2 : end]))
        pos = end
    return Packet(code, identifier, length, authenticator, tuple(attributes))


def request_authenticator(data: bytes, secret: bytes) -> bytes:
    """RFC 2866 3: MD5(Code + Identifier + Length + 16 zero octets + Attributes + secret)."""
    length = _HEAD.unpack_from(data)[2]
    return _md5(data[:4] + bytes(16) + data[HEADER:length] + secret)


def verify_request(data: bytes, secret: bytes) -> bool:
    """True when the Request Authenticator matches: the packet comes from a NAS that knows the secret."""
    return hmac.compare_digest(request_authenticator(data, secret), data[4:HEADER])


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _integer(kind: int, value: bytes) -> int:
    if len(value) != 4:
        raise Malformed("malformed", f"attribute {kind} is an integer but has {len(value)} octets")
    return _UINT32.unpack(value)[0]


def _address(kind: int, value: bytes) -> str:
    if len(value) != 4:
        raise Malformed("malformed", f"attribute {kind} is an IPv4 address but has {len(value)} octets")
    return str(ipaddress.IPv4Address(value))


def decode_accounting(packet: Packet, nas: str, received: float, source: str = "") -> AccountingRecord:
    """The stored attributes of a (verified) Accounting-Request. Unknown attributes are skipped."""
    if packet.code != ACCOUNTING_REQUEST:
        raise Malformed("not_accounting", f"code {packet.code} is not an Accounting-Request")
    ints: dict[int, int] = {}
    texts: dict[int, str] = {}
    framed = nas_ip = vendor_ssid = None
    for kind, value in packet.attributes:
        if kind in INTEGERS:
            ints.setdefault(kind, _integer(kind, value))
        elif kind in STRINGS:
            texts.setdefault(kind, _text(value))
        elif kind == FRAMED_IP_ADDRESS:
            framed = framed or _address(kind, value)
        elif kind == NAS_IP_ADDRESS:
            nas_ip = nas_ip or _address(kind, value)
        elif kind == VENDOR_SPECIFIC and vendor_ssid is None and len(value) >= 6:
            vendor_ssid = _vendor_ssid(value)  # "" when found empty: the first one counts, as for other attributes
        elif kind == FRAMED_IPV6_ADDRESS and framed is None:
            if len(value) != 16:
                raise Malformed("malformed", f"attribute {kind} is an IPv6 address but has {len(value)} octets")
            framed = str(ipaddress.IPv6Address(value))
    status = ints.get(ACCT_STATUS_TYPE)
    if status is None:
        raise Malformed("malformed", "no Acct-Status-Type")
    session_id = texts.get(ACCT_SESSION_ID, "")
    if status in (START, STOP, INTERIM_UPDATE) and not session_id:
        raise Malformed("malformed", "no Acct-Session-Id")

    def octets(low: int, high: int) -> int | None:
        if low not in ints and high not in ints:
            return None
        value = (ints.get(high, 0) << 32) + ints.get(low, 0)
        if value > MAX_OCTETS:
            # Gigawords >= 2^31: 8 EiB in one session is no real counter, and SQLite (signed 64-bit) could not
            # store it. Dropped like any other malformed attribute, rather than clamped into a false number.
            raise Malformed("malformed", f"attribute {high}: an octet counter beyond 2^63-1")
        return value

    return AccountingRecord(
        nas=nas,
        received=received,
        status=status,
        source=source,
        session_id=session_id,
        multi_session_id=texts.get(ACCT_MULTI_SESSION_ID, ""),
        user_name=texts.get(USER_NAME),
        calling_station=texts.get(CALLING_STATION_ID),
        called_station=texts.get(CALLED_STATION_ID),
        framed_ip=framed,
        nas_ip=nas_ip,
        nas_port=ints.get(NAS_PORT),
        nas_identifier=texts.get(NAS_IDENTIFIER),
        operator_name=texts.get(OPERATOR_NAME),
        cui=texts.get(CHARGEABLE_USER_IDENTITY),
        input_octets=octets(ACCT_INPUT_OCTETS, ACCT_INPUT_GIGAWORDS),
        output_octets=octets(ACCT_OUTPUT_OCTETS, ACCT_OUTPUT_GIGAWORDS),
        session_time=ints.get(ACCT_SESSION_TIME),
        terminate_cause=ints.get(ACCT_TERMINATE_CAUSE),
        delay_time=ints.get(ACCT_DELAY_TIME, 0),
        event_timestamp=ints.get(EVENT_TIMESTAMP),
        interim_interval=ints.get(ACCT_INTERIM_INTERVAL),
        vendor_ssid=vendor_ssid or None,
    )


def _vendor_ssid(value: bytes) -> str | None:
    """The SSID in a Vendor-Specific attribute (RFC 2865 5.26: Vendor-Id, then type-length-value), if any."""
    vendor = _UINT32.unpack_from(value)[0]
    pos = 4
    while pos + 2 <= len(value):
        kind, length = value[pos], value[pos + 1]
        if length < 2 or pos + length > len(value):
            return None  # a vendor's own layout we do not know: not an error, just no SSID from it
        if (vendor, kind) in SSID_VSAS:
            return _text(value[pos + 2 : pos + length])
        pos += length
    return None


def accounting_response(request: bytes, secret: bytes) -> bytes:
    """An Accounting-Response without attributes (RFC 2866 3): MD5(5 + id + 20 + Request Authenticator + secret)."""
    head = bytes((ACCOUNTING_RESPONSE, request[1], 0, HEADER))
    return head + _md5(head + request[4:HEADER] + secret)


# -- building packets: the lab, the tests and the benchmark speak as a NAS ------------------


def attribute(kind: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        value = _UINT32.pack(value)
    elif isinstance(value, str):
        value = value.encode()
    if len(value) > 253:
        raise ValueError(f"attribute {kind} value longer than 253 octets")
    return bytes((kind, len(value) + 2)) + value


def encode_request(
    attributes: list[tuple[int, bytes | str | int]], secret: bytes, identifier: int, code: int = ACCOUNTING_REQUEST
) -> bytes:
    """A signed Accounting-Request (the Request Authenticator computed with ``secret``)."""
    body = b"".join(attribute(k, v) for k, v in attributes)
    length = HEADER + len(body)
    if length > MAX_LENGTH:
        raise ValueError("packet longer than 4096 octets")
    head = bytes((code, identifier & 0xFF)) + struct.pack("!H", length)
    return head + _md5(head + bytes(16) + body + secret) + body


def verify_response(response: bytes, request: bytes, secret: bytes) -> bool:
    """A NAS's check of an Accounting-Response to its ``request``."""
    if len(response) < HEADER or response[0] != ACCOUNTING_RESPONSE or response[1] != request[1]:
        return False
    length = struct.unpack_from("!H", response, 2)[0]
    if length < HEADER or length > len(response):
        return False
    expected = _md5(response[:4] + request[4:HEADER] + response[HEADER:length] + secret)
    return expected == response[4:HEADER]


_MAC = re.compile(
    r"^(?P<mac>[0-9a-fA-F]{2}(?P<sep>[-:.]?)[0-9a-fA-F]{2}(?:(?P=sep)[0-9a-fA-F]{2}){4}"
    r"|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})(?:[:;](?P<ssid>.*))?$",
    re.DOTALL,
)


@functools.lru_cache(maxsize=65536)  # a campus has a few thousand AP:SSID pairs; each packet names one
def split_called_station(value: str | None) -> tuple[str | None, str | None]:
    """``AP-MAC:SSID`` (the RFC 3580 convention) -> (``aa:bb:cc:dd:ee:ff``, SSID); (None, None) when not."""
    if not value:
        return None, None
    m = _MAC.match(value.strip())
    if m is None:
        return None, None
    digits = re.sub(r"[^0-9a-f]", "", m.group("mac").lower())
    mac = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    ssid = m.group("ssid")
    return mac, (ssid if ssid else None)
