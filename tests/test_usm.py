"""SNMPv3 USM in the native engine: keys and ciphers against RFC 3414 and pysnmp, forged answers dropped."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as _hlapi  # noqa: F401 - loads pysnmp's security modules in a working order
from pysnmp.proto.secmod.eso.priv import aes192, aes256
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc3414.auth import hmacmd5, hmacsha
from pysnmp.proto.secmod.rfc3414.priv import des
from pysnmp.proto.secmod.rfc3826.priv import aes
from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

from collectors import system
from collectors.credentials import SnmpV3Credentials
from collectors.snmp import ber, usm
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from netmon import lab as lab_mod
from tests.udp_peers import DelayRelay

ENGINE = bytes.fromhex("000000000000000000000002")


def test_rfc3414_appendix_a3_key_localisation():
    # RFC 3414 A.3.1 (MD5) and A.3.2 (SHA): password "maplesyrup", engine ID 00...02.
    assert usm.password_key(b"maplesyrup", "md5").hex() == "9faf3283884e92834ebc9847d8edd963"
    assert usm.auth_key(b"maplesyrup", "md5", ENGINE).hex() == "526f5eed9fcce26f8964c2930787d82b"
    assert usm.password_key(b"maplesyrup", "sha").hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    assert usm.auth_key(b"maplesyrup", "sha", ENGINE).hex() == "6695febc9288e36282235fc7151f128497b38f3f"


AUTH_IDS = {
    "md5": hmacmd5.HmacMd5.SERVICE_ID,
    "sha": hmacsha.HmacSha.SERVICE_ID,
    "sha224": (1, 3, 6, 1, 6, 3, 10, 1, 1, 4),
    "sha256": (1, 3, 6, 1, 6, 3, 10, 1, 1, 5),
    "sha384": (1, 3, 6, 1, 6, 3, 10, 1, 1, 6),
    "sha512": (1, 3, 6, 1, 6, 3, 10, 1, 1, 7),
}
PRIV_MODULES = {"des": des.Des(), "aes128": aes.Aes(), "aes192": aes192.Aes192(), "aes256": aes256.Aes256()}

passwords = st.binary(min_size=8, max_size=40)
engine_ids = st.binary(min_size=5, max_size=32)


@given(password=passwords, engine_id=engine_ids, auth=st.sampled_from(sorted(usm.AUTH)))
@settings(max_examples=25, deadline=None)
def test_auth_keys_match_pysnmp(password, engine_id, auth):
    hash_func = hmacsha2.HmacSha2.HASH_ALGORITHM.get(AUTH_IDS[auth]) or usm.AUTH[auth][0]
    expected = localkey.password_to_key(password, univ.OctetString(engine_id), hash_func).asOctets()
    assert usm.auth_key(password, auth, engine_id) == expected


@given(
    password=passwords,
    engine_id=engine_ids,
    auth=st.sampled_from(sorted(usm.AUTH)),
    priv=st.sampled_from(sorted(PRIV_MODULES)),
)
@settings(max_examples=40, deadline=None)
def test_priv_keys_match_pysnmp(password, engine_id, auth, priv):
    module = PRIV_MODULES[priv]
    hashed = module.hash_passphrase(AUTH_IDS[auth], password)
    expected = bytes(module.localize_key(AUTH_IDS[auth], hashed, univ.OctetString(engine_id)))
    assert usm.priv_key(password, auth, priv, engine_id) == expected


@given(
    priv=st.sampled_from(sorted(PRIV_MODULES)),
    key=st.binary(min_size=32, max_size=32),
    boots=st.integers(0, 2**31 - 1),
    engine_time=st.integers(0, 2**31 - 1),
    salt=st.integers(0, 2**64 - 1),
    plaintext=st.binary(min_size=1, max_size=300),
)
@settings(max_examples=200, deadline=None)
def test_ciphers_interoperate_with_pysnmp(priv, key, boots, engine_time, salt, plaintext):
    key = key[: usm.PRIV_KEY_BYTES[priv]]
    module = PRIV_MODULES[priv]
    ciphertext, params = usm.encrypt(priv, key, boots, engine_time, salt, plaintext)
    theirs = module.decrypt_data(
        univ.OctetString(key), (boots, engine_time, univ.OctetString(params)), univ.OctetString(ciphertext)
    )
    assert bytes(theirs)[: len(plaintext)] == plaintext
    their_cipher, their_params = module.encrypt_data(univ.OctetString(key), (boots, engine_time, None), plaintext)
    ours = usm.decrypt(priv, key, boots, engine_time, bytes(their_params), bytes(their_cipher))
    assert ours[: len(plaintext)] == plaintext


@given(
    msg_id=st.integers(0, 2**31 - 1),
    flags=st.sampled_from([4, 5, 7]),
    engine_id=engine_ids,
    boots=st.integers(0, 2**31 - 1),
    engine_time=st.integers(0, 2**31 - 1),
    user=st.binary(max_size=32),
    auth=st.sampled_from(sorted(usm.AUTH)),
    key=st.binary(min_size=16, max_size=64),
    context=st.binary(max_size=32),
)
@settings(max_examples=200)
def test_message_round_trip_and_mac(msg_id, flags, engine_id, boots, engine_time, user, auth, key, context):
    pdu = ber.encode_pdu(ber.GET_BULK, 5, [(1, 3, 6, 1, 2, 1, 1)], 0, 10)
    scoped = usm.scoped_pdu(engine_id, context, pdu)
    encrypted = bool(flags & usm.FLAG_PRIV)
    msg_data = ber.encode_octets(b"\x01" * 40) if encrypted else scoped
    priv_params = b"\x00" * 8 if encrypted else b""
    wire = usm.encode_message(
        msg_id, flags, engine_id, boots, engine_time, user, msg_data,
        auth if flags & usm.FLAG_AUTH else None, key, priv_params,
    )  # fmt: skip
    msg = usm.decode_message(wire)
    assert (msg.msg_id, msg.flags, msg.engine_id, msg.boots, msg.engine_time, msg.user) == (
        msg_id, flags, engine_id, boots, engine_time, user,
    )  # fmt: skip
    assert msg.encrypted == encrypted
    if flags & usm.FLAG_AUTH:
        assert usm.verify_mac(wire, msg, auth, key)
        tampered = bytearray(wire)
        tampered[-1] ^= 0x01
        assert not usm.verify_mac(bytes(tampered), usm.decode_message(bytes(tampered)), auth, key)
    else:
        assert usm.open_scoped_pdu(msg.msg_data) == (engine_id, context, ber.decode_pdu(pdu, 0, len(pdu))[0])


@given(st.binary(max_size=300))
@settings(max_examples=1000)
def test_v3_garbage_never_raises_anything_but_berror(data):
    try:
        usm.decode_message(data)
    except ber.BerError:
        pass


@pytest.fixture(scope="module")
def v3_lab(lab, tmp_path_factory):
    port = lab_mod.free_udp_port()
    sim = lab_mod.Simulator(lab.data_dir, port, tmp_path_factory.mktemp("usm"), v3_users=[lab_mod.LAB_V3_USER]).start()
    yield port
    sim.stop()


def test_forged_v3_answers_are_dropped_and_the_real_one_accepted(lab, v3_lab):
    """A relay sends, before each genuine answer, a copy with one bit flipped: the HMAC check must catch it."""
    dev = next(d for d in lab.devices if d.v3)
    creds = SnmpV3Credentials(
        "lab", lab_mod.V3_USER, "sha256", lab_mod.V3_AUTH_KEY, "aes128", lab_mod.V3_PRIV_KEY, context=dev.hostname
    )

    async def go():
        relay = await DelayRelay.start(("127.0.0.1", v3_lab), 0.0)
        relay.tamper = lambda data: data[:-1] + bytes((data[-1] ^ 0x01,))
        client = SnmpClient("native")
        try:
            session = await client.session(SnmpTarget("127.0.0.1", relay.port, 2.0, 0), creds)
            value = await session.get([system.SYS_NAME])
            await asyncio.sleep(0.1)
            return value, client.take_drops()
        finally:
            client.close()
            relay.close()

    value, drops = asyncio.run(go())
    assert value == {system.SYS_NAME: dev.hostname.encode()}
    assert drops.get("wrong_digest", 0) >= 1


# -- a hand-made SNMPv3 agent: what the native engine must refuse --------------------------------

AGENT_ENGINE = bytes.fromhex("80001f8880aabbccddeeff0011")
USER, AUTH_PW, PRIV_PW = b"noc", b"auth-password-1", b"priv-password-1"
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def _response_pdu(pdu_type: int, request_id: int, varbinds: list[tuple[tuple, bytes]]) -> bytes:
    encoded = b"".join(ber.encode_sequence(ber.encode_oid(o) + v) for o, v in varbinds)
    head = ber.encode_integer(request_id) + ber.encode_integer(0) + ber.encode_integer(0)
    return ber._tlv(pdu_type, head + ber.encode_sequence(encoded))


class V3Agent(asyncio.DatagramProtocol):
    """Answers discovery honestly, then plays ``script``: a list of (what to send) per real request."""

    def __init__(self, script, boots=3, engine_time=1000):
        self.script, self.boots, self.time = script, boots, engine_time
        self.tasks: set = set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        msg = usm.decode_message(data)
        _, _, pdu = usm.open_scoped_pdu(msg.msg_data) if not msg.encrypted else (None, None, None)
        if not msg.engine_id:  # discovery
            report = _response_pdu(ber.REPORT, pdu.request_id, [(usm.UNKNOWN_ENGINE_ID, ber.encode_integer(1))])
            reply = usm.encode_message(
                msg.msg_id, 0, AGENT_ENGINE, self.boots, self.time, b"", usm.scoped_pdu(AGENT_ENGINE, b"", report)
            )
            self.transport.sendto(reply, addr)
            return
        if msg.encrypted:
            key = usm.priv_key(PRIV_PW, "sha256", "aes128", AGENT_ENGINE)
            plain = usm.decrypt("aes128", key, msg.boots, msg.engine_time, msg.priv_params, msg.msg_data)
            _, _, pdu = usm.open_scoped_pdu(plain)
        for make in self.script.pop(0) if self.script else []:
            self.transport.sendto(make(self, msg, pdu), addr)


def genuine(agent, msg, pdu, *, flags=usm.FLAG_AUTH, user=USER, request_id=None, boots=None, engine_time=None,
            value=b"real", encrypt=False):  # fmt: skip
    """An authenticated Response, optionally bent in one way."""
    response = _response_pdu(ber.RESPONSE, pdu.request_id if request_id is None else request_id,
                             [(SYS_NAME, ber.encode_octets(value))])  # fmt: skip
    scoped = usm.scoped_pdu(AGENT_ENGINE, b"", response)
    boots = agent.boots if boots is None else boots
    engine_time = agent.time if engine_time is None else engine_time
    priv_params = b""
    if encrypt:
        key = usm.priv_key(PRIV_PW, "sha256", "aes128", AGENT_ENGINE)
        cipher, priv_params = usm.encrypt("aes128", key, boots, engine_time, 7, scoped)
        scoped, flags = ber.encode_octets(cipher), flags | usm.FLAG_PRIV
    auth = "sha256" if flags & usm.FLAG_AUTH else None
    key = usm.auth_key(AUTH_PW, "sha256", AGENT_ENGINE)
    return usm.encode_message(msg.msg_id, flags, AGENT_ENGINE, boots, engine_time, user, scoped, auth, key, priv_params)


def run_v3(script, priv=False, **agent_kw):
    async def go():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: V3Agent(script, **agent_kw), local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        creds = SnmpV3Credentials(
            "p",
            USER.decode(),
            "sha256",
            AUTH_PW.decode(),
            "aes128" if priv else None,
            PRIV_PW.decode() if priv else None,
        )
        client = SnmpClient("native")
        try:
            session = await client.session(SnmpTarget("127.0.0.1", port, 0.5, 0), creds)
            try:
                value = await session.get([SYS_NAME])
            except Exception as exc:
                value = exc
            state = client._native._engines.get(session.peer)
            return value, client.take_drops(), state
        finally:
            client.close()
            transport.close()

    return asyncio.run(go())


def test_v3_forgeries_are_dropped_and_the_genuine_answer_accepted():
    forgeries = [
        lambda a, m, p: genuine(a, m, p, flags=0),  # unauthenticated
        lambda a, m, p: genuine(a, m, p, user=b"mallory"),
        lambda a, m, p: genuine(a, m, p, request_id=p.request_id + 1),
        lambda a, m, p: genuine(a, m, p, boots=a.boots - 1),  # a replay from an older boot
        lambda a, m, p: genuine(a, m, p, engine_time=a.time - 400),  # more than 150 s behind
        lambda a, m, p: genuine(a, m, p)[:-1] + b"\x00",  # a flipped last byte: wrong digest
        genuine,
    ]
    value, drops, _ = run_v3([forgeries])
    assert value == {SYS_NAME: b"real"}
    assert drops == {
        "unauthenticated": 1,
        "wrong_security": 1,
        "unknown_request_id": 1,
        "not_in_time_window": 2,
        "wrong_digest": 1,
    }


def test_v3_answer_below_the_requested_security_level_is_refused():
    downgrade = [lambda a, m, p: genuine(a, m, p, value=b"downgraded"), lambda a, m, p: genuine(a, m, p, encrypt=True)]
    value, drops, _ = run_v3([downgrade], priv=True)
    assert value == {SYS_NAME: b"real"} and drops == {"wrong_security": 1}


def test_unauthenticated_time_report_cannot_move_the_clock():
    def fake_report(agent, msg, pdu):
        report = _response_pdu(ber.REPORT, pdu.request_id, [(usm.NOT_IN_TIME_WINDOW, ber.encode_integer(1))])
        return usm.encode_message(
            msg.msg_id, 0, AGENT_ENGINE, 2**31 - 1, 2**31 - 1, USER, usm.scoped_pdu(AGENT_ENGINE, b"", report)
        )

    value, _, state = run_v3([[fake_report], [genuine]])
    assert value == {SYS_NAME: b"real"}  # the retry, with the clock untouched, got the real answer
    assert state.boots == 3 and state.time < 2000


def test_forged_discovery_with_impossible_boots_is_malformed_not_a_crash():
    class Liar(V3Agent):
        def datagram_received(self, data, addr):
            msg = usm.decode_message(data)
            report = _response_pdu(ber.REPORT, 1, [(usm.UNKNOWN_ENGINE_ID, ber.encode_integer(1))])
            # engine boots 2**32: one more than RFC 3414 allows, well-formed otherwise
            scoped = usm.scoped_pdu(AGENT_ENGINE, b"", report)
            self.transport.sendto(usm.encode_message(msg.msg_id, 0, AGENT_ENGINE, 2**32, 0, b"", scoped), addr)

    async def go():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: Liar([]), local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        client = SnmpClient("native")
        try:
            creds = SnmpV3Credentials("p", "noc", "sha256", AUTH_PW.decode(), "aes128", PRIV_PW.decode())
            session = await client.session(SnmpTarget("127.0.0.1", port, 0.3, 0), creds)
            try:
                await session.get([SYS_NAME])
            except Exception as exc:
                return exc, client.take_drops()
        finally:
            client.close()
            transport.close()

    exc, drops = asyncio.run(go())
    from collectors.snmp.api import SnmpError

    assert isinstance(exc, SnmpError), repr(exc)
    assert drops.get("malformed", 0) >= 1
