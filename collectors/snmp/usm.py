"""SNMPv3 with the User-based Security Model, for the native engine.

RFC 3412 (message format), RFC 3414 (USM: key localisation, HMAC-MD5/SHA-96,
DES), RFC 7860 (HMAC-SHA-2), RFC 3826 (AES-128), and the AES-192/256 key
extension that Cisco and most vendors use (draft-reeder-snmpv3-usm-3desede,
the scheme pysnmp and snmpsim call plain ``AES192``/``AES256``). 3DES stays
with the pysnmp engine.

Pure functions: keys, encryption, message encoding and decoding. The request
flow (engine discovery, time synchronisation, reports) is in
:mod:`collectors.snmp.native`. ``tests/test_usm.py`` checks the keys and the
ciphers against pysnmp's implementation and talks to snmpsim with every
combination.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collectors.snmp import ber
from collectors.snmp.ber import BerError

# auth protocol -> (hash, HMAC output length on the wire)
AUTH = {
    "md5": (hashlib.md5, 12),
    "sha": (hashlib.sha1, 12),
    "sha224": (hashlib.sha224, 16),
    "sha256": (hashlib.sha256, 24),
    "sha384": (hashlib.sha384, 32),
    "sha512": (hashlib.sha512, 48),
}
# privacy protocol -> localised key bytes needed (DES: 8 key + 8 pre-IV)
PRIV_KEY_BYTES = {"des": 16, "aes": 16, "aes128": 16, "aes192": 24, "aes256": 32}
NATIVE_PRIV = frozenset(PRIV_KEY_BYTES)

FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 0x01, 0x02, 0x04
USM_SECURITY_MODEL = 3
MAX_MESSAGE_SIZE = 65507
MAX_ENGINE_VALUE = 2**31 - 1
TIME_WINDOW = 150  # seconds, RFC 3414 section 3.2.7
_MEGABYTE = 1_048_576

# usmStats counters a Report PDU names (RFC 3414 section 5), and what they mean for us.
USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
REPORTS = {
    USM_STATS + (1, 0): "unsupported security level",
    USM_STATS + (2, 0): "not in time window",
    USM_STATS + (3, 0): "unknown user name",
    USM_STATS + (4, 0): "unknown engine ID",
    USM_STATS + (5, 0): "wrong digest",
    USM_STATS + (6, 0): "decryption error",
}
NOT_IN_TIME_WINDOW = USM_STATS + (2, 0)
UNKNOWN_USER_NAME = USM_STATS + (3, 0)
UNKNOWN_ENGINE_ID = USM_STATS + (4, 0)


# -- keys ------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def password_key(password: bytes, auth: str) -> bytes:
    """RFC 3414 A.2: the digest of the password repeated to one MiB (Ku)."""
    if not password:
        raise ValueError("empty SNMPv3 password")
    stream = (password * (_MEGABYTE // len(password) + 1))[:_MEGABYTE]
    return AUTH[auth][0](stream).digest()


def localize(key: bytes, engine_id: bytes, auth: str) -> bytes:
    """RFC 3414 section 2.6: Kul = H(Ku || engineID || Ku)."""
    return AUTH[auth][0](key + engine_id + key).digest()


@functools.lru_cache(maxsize=1024)
def auth_key(password: bytes, auth: str, engine_id: bytes) -> bytes:
    return localize(password_key(password, auth), engine_id, auth)


@functools.lru_cache(maxsize=1024)
def priv_key(password: bytes, auth: str, priv: str, engine_id: bytes) -> bytes:
    """Localised privacy key, extended (Reeder) when the auth hash is shorter than the cipher needs."""
    key = localize(password_key(password, auth), engine_id, auth)
    size = PRIV_KEY_BYTES[priv]
    while len(key) < size:
        key += localize(password_key(key, auth), engine_id, auth)
    return key[:size]


# -- privacy ---------------------------------------------------------------------


def encrypt(priv: str, key: bytes, boots: int, engine_time: int, salt: int, plaintext: bytes) -> tuple[bytes, bytes]:
    """Encrypt a scoped PDU; return (ciphertext, msgPrivacyParameters)."""
    if priv == "des":
        params = boots.to_bytes(4, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
        iv = bytes(a ^ b for a, b in zip(key[8:16], params, strict=True))
        padded = plaintext + b"\x00" * (-len(plaintext) % 8)
        enc = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv)).encryptor()
        return enc.update(padded) + enc.finalize(), params
    params = (salt & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + params
    enc = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
    return enc.update(plaintext) + enc.finalize(), params


def decrypt(priv: str, key: bytes, boots: int, engine_time: int, params: bytes, ciphertext: bytes) -> bytes:
    if len(params) != 8:
        raise BerError("msgPrivacyParameters must be 8 octets")
    if priv == "des":
        if len(ciphertext) % 8:
            raise BerError("DES ciphertext is not a multiple of 8 octets")
        iv = bytes(a ^ b for a, b in zip(key[8:16], params, strict=True))
        dec = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv)).decryptor()
        return dec.update(ciphertext) + dec.finalize()
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + params
    dec = Cipher(algorithms.AES(key), CFB(iv)).decryptor()
    return dec.update(ciphertext) + dec.finalize()


# -- messages --------------------------------------------------------------------


def scoped_pdu(context_engine_id: bytes, context_name: bytes, pdu: bytes) -> bytes:
    return ber.encode_sequence(ber.encode_octets(context_engine_id), ber.encode_octets(context_name), pdu)


def encode_message(
    msg_id: int,
    flags: int,
    engine_id: bytes,
    boots: int,
    engine_time: int,
    user: bytes,
    msg_data: bytes,
    auth: str | None = None,
    key: bytes | None = None,
    priv_params: bytes = b"",
) -> bytes:
    """An SNMPv3 message; ``msg_data`` is a scoped PDU or an OCTET STRING of ciphertext.

    With ``auth``, the HMAC is computed over the whole message with zeros in
    its place (RFC 3414 section 6.3.1) and then written in.
    """
    mac_len = AUTH[auth][1] if auth else 0
    before_mac = (
        ber.encode_octets(engine_id)
        + ber.encode_integer(boots)
        + ber.encode_integer(engine_time)
        + ber.encode_octets(user)
    )
    mac_tlv = ber.encode_octets(b"\x00" * mac_len)
    inner = before_mac + mac_tlv + ber.encode_octets(priv_params)
    security = ber.encode_sequence(inner)
    sec_octets = ber.encode_octets(security)
    header = ber.encode_sequence(
        ber.encode_integer(msg_id),
        ber.encode_integer(MAX_MESSAGE_SIZE),
        ber.encode_octets(bytes((flags,))),
        ber.encode_integer(USM_SECURITY_MODEL),
    )
    version = ber.encode_integer(3)
    body = version + header + sec_octets + msg_data
    whole = bytearray(ber.encode_sequence(body))
    if auth:
        # Where the zeroed MAC sits: past every TLV header and field in front of it.
        offset = (
            (len(whole) - len(body))
            + len(version)
            + len(header)
            + (len(sec_octets) - len(security))
            + (len(security) - len(inner))
            + len(before_mac)
            + (len(mac_tlv) - mac_len)
        )
        whole[offset : offset + mac_len] = hmac.new(key, bytes(whole), AUTH[auth][0]).digest()[:mac_len]
    return bytes(whole)


@dataclass(frozen=True, slots=True)
class Message:
    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    engine_time: int
    user: bytes
    mac: bytes
    mac_offset: int
    priv_params: bytes
    encrypted: bool
    msg_data: bytes  # ciphertext, or the scoped PDU's encoding (TLV included)


def decode_message(data: bytes) -> Message:
    """Decode the SNMPv3 envelope and USM parameters; the scoped PDU is left for :func:`open_scoped_pdu`."""
    end = len(data)
    start, stop = ber.expect(data, 0, end, ber.T_SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after message")
    s, e = ber.expect(data, start, stop, ber.T_INTEGER)
    if ber.decode_int(data, s, e) != 3:
        raise BerError("not SNMPv3")
    hs, he = ber.expect(data, e, stop, ber.T_SEQUENCE)
    s, e = ber.expect(data, hs, he, ber.T_INTEGER)
    msg_id = ber.decode_int(data, s, e)
    s, e = ber.expect(data, e, he, ber.T_INTEGER)  # msgMaxSize
    s, e = ber.expect(data, e, he, ber.T_OCTET_STRING)
    if e - s != 1:
        raise BerError("msgFlags must be one octet")
    flags = data[s]
    s, e = ber.expect(data, e, he, ber.T_INTEGER)
    if ber.decode_int(data, s, e) != USM_SECURITY_MODEL or e != he:
        raise BerError("not the User-based Security Model")
    os_, oe = ber.expect(data, he, stop, ber.T_OCTET_STRING)
    ss, se = ber.expect(data, os_, oe, ber.T_SEQUENCE)
    if se != oe:
        raise BerError("trailing bytes after security parameters")
    s, e = ber.expect(data, ss, se, ber.T_OCTET_STRING)
    engine_id = data[s:e]
    s, e = ber.expect(data, e, se, ber.T_INTEGER)
    boots = ber.decode_int(data, s, e)
    s, e = ber.expect(data, e, se, ber.T_INTEGER)
    engine_time = ber.decode_int(data, s, e)
    s, e = ber.expect(data, e, se, ber.T_OCTET_STRING)
    user = data[s:e]
    mac_start, mac_stop = ber.expect(data, e, se, ber.T_OCTET_STRING)
    s, e = ber.expect(data, mac_stop, se, ber.T_OCTET_STRING)
    priv_params = data[s:e]
    if e != se:
        raise BerError("trailing bytes in security parameters")
    tag, ds, de = ber.read_header(data, oe, stop)
    if de != stop:
        raise BerError("trailing bytes after msgData")
    if tag == ber.T_OCTET_STRING:
        encrypted, msg_data = True, data[ds:de]
    elif tag == ber.T_SEQUENCE:
        encrypted, msg_data = False, data[oe:de]
    else:
        raise BerError("msgData is neither a scoped PDU nor ciphertext")
    if encrypted != bool(flags & FLAG_PRIV) or (flags & FLAG_PRIV and not flags & FLAG_AUTH):
        raise BerError("msgFlags do not match msgData")
    if not (
        0 <= boots <= MAX_ENGINE_VALUE and 0 <= engine_time <= MAX_ENGINE_VALUE and 0 <= msg_id <= MAX_ENGINE_VALUE
    ):
        raise BerError("msgID, engine boots or engine time out of range")  # RFC 3414: 0..2147483647
    return Message(
        msg_id, flags, engine_id, boots, engine_time, user, data[mac_start:mac_stop], mac_start, priv_params,
        encrypted, msg_data,
    )  # fmt: skip


def verify_mac(data: bytes, msg: Message, auth: str, key: bytes) -> bool:
    mac_len = AUTH[auth][1]
    if len(msg.mac) != mac_len:
        return False
    zeroed = data[: msg.mac_offset] + b"\x00" * mac_len + data[msg.mac_offset + mac_len :]
    return hmac.compare_digest(hmac.new(key, zeroed, AUTH[auth][0]).digest()[:mac_len], msg.mac)


def open_scoped_pdu(plaintext: bytes, padded: bool = False) -> tuple[bytes, bytes, ber.Pdu]:
    """(contextEngineID, contextName, PDU). DES leaves padding after the SEQUENCE: ``padded`` allows it."""
    start, stop = ber.expect(plaintext, 0, len(plaintext), ber.T_SEQUENCE)
    # CBC padding: 0 to 7 octets by the RFC, but some agents (pysnmp) add a whole block when none is needed.
    if stop != len(plaintext) and not (padded and len(plaintext) - stop <= 8):
        raise BerError("trailing bytes after scoped PDU")
    s, e = ber.expect(plaintext, start, stop, ber.T_OCTET_STRING)
    context_engine_id = plaintext[s:e]
    s, e = ber.expect(plaintext, e, stop, ber.T_OCTET_STRING)
    context_name = plaintext[s:e]
    pdu, end = ber.decode_pdu(plaintext, e, stop)
    if end != stop:
        raise BerError("trailing bytes after PDU")
    return context_engine_id, context_name, pdu
