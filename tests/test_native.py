"""The native SNMPv2c engine on the wire: forged, malformed and late packets are dropped and counted."""

from __future__ import annotations

import asyncio

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.api import v2c

from collectors.credentials import SnmpV2cCredentials
from collectors.snmp.api import SnmpBadAnswer, SnmpError, SnmpTarget, SnmpTimeout
from collectors.snmp.client import SnmpClient

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def reply_to(
    request: bytes, community: bytes | None = None, request_id: int | None = None, pdu_cls=None, varbinds=None
) -> bytes:
    """A response built with pysnmp (an independent encoder) to a request we received."""
    msg, _ = decoder.decode(request, asn1Spec=P.Message())
    req_pdu = P.apiMessage.get_pdu(msg)
    out = P.Message()
    P.apiMessage.set_defaults(out)
    P.apiMessage.set_community(out, community if community is not None else P.apiMessage.get_community(msg))
    pdu = (pdu_cls or P.ResponsePDU)()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id if request_id is not None else P.apiPDU.get_request_id(req_pdu))
    P.apiPDU.set_varbinds(pdu, varbinds or [(SYS_NAME, v2c.OctetString(b"real-answer"))])
    P.apiMessage.set_pdu(out, pdu)
    return encoder.encode(out)


class Agent(asyncio.DatagramProtocol):
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.requests = 0
        self.tasks: set = set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.requests += 1
        task = asyncio.ensure_future(self.behaviour(self, data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def run_against(behaviour, timeout=1.0, retries=0, action=None):
    loop = asyncio.get_running_loop()
    transport, agent = await loop.create_datagram_endpoint(lambda: Agent(behaviour), local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    client = SnmpClient("native")
    try:
        session = await client.session(SnmpTarget("127.0.0.1", port, timeout, retries), SnmpV2cCredentials("p", "c0mm"))
        try:
            value = await (action(session) if action else session.get([SYS_NAME]))
        except SnmpError as exc:
            value = exc
        await asyncio.sleep(0.2)  # let stragglers arrive
        return value, client.take_drops(), agent.requests
    finally:
        client.close()
        transport.close()


def test_forged_and_malformed_answers_are_dropped_and_counted():
    async def hostile(agent, request, addr):
        loop = asyncio.get_running_loop()
        spoof, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
        agent.transport.sendto(b"\x30\x05\x02\x01\x01\x04", addr)  # truncated
        agent.transport.sendto(b"not snmp at all", addr)
        agent.transport.sendto(reply_to(request, request_id=7), addr)  # nobody asked
        agent.transport.sendto(reply_to(request, community=b"guess"), addr)
        agent.transport.sendto(reply_to(request, pdu_cls=P.GetRequestPDU), addr)
        spoof.sendto(reply_to(request), addr)  # right request-id, wrong port
        spoof.close()
        await asyncio.sleep(0.05)
        agent.transport.sendto(reply_to(request), addr)  # the real answer
        await asyncio.sleep(0.05)
        agent.transport.sendto(reply_to(request), addr)  # a duplicate, after the request completed

    value, drops, _ = asyncio.run(run_against(hostile))
    assert value == {SYS_NAME: b"real-answer"}
    assert drops == {
        "malformed": 2,
        "unknown_request_id": 2,
        "wrong_community": 1,
        "not_a_response": 1,
        "wrong_source": 1,
    }


def test_late_answer_to_first_try_completes_the_retry():
    async def slow_once(agent, request, addr):
        if agent.requests == 1:
            await asyncio.sleep(0.3)  # answers the first try after its 0.2 s timeout
            agent.transport.sendto(reply_to(request), addr)

    value, drops, requests = asyncio.run(run_against(slow_once, timeout=0.2, retries=1))
    assert value == {SYS_NAME: b"real-answer"} and requests == 2 and drops == {}


def test_silence_is_a_timeout_after_all_retries():
    async def silent(agent, request, addr):
        return None

    value, _, requests = asyncio.run(run_against(silent, timeout=0.1, retries=2))
    assert isinstance(value, SnmpTimeout) and requests == 3
    assert "c0mm" not in str(value)


@pytest.mark.parametrize("host", ["not-an-address", "sw1.example"])
def test_names_are_refused_not_resolved(host):
    async def go():
        client = SnmpClient("native")
        try:
            await client.session(SnmpTarget(host, 161), SnmpV2cCredentials("p", "c"))
        finally:
            client.close()

    from collectors.snmp.api import SnmpError

    with pytest.raises(SnmpError, match="not an IP address"):
        asyncio.run(go())


IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)


def test_oids_out_of_order_fail_the_walk_instead_of_cutting_the_table():
    async def disorderly(agent, request, addr):
        rows = [IF_NAME + (i,) for i in (1, 2, 3, 5, 4, 6)]
        agent.transport.sendto(reply_to(request, varbinds=[(o, v2c.OctetString(b"x")) for o in rows]), addr)

    value, _, _ = asyncio.run(run_against(disorderly, action=lambda s: s.walk_columns([IF_NAME])))
    assert isinstance(value, SnmpError) and "out of order" in str(value)


def test_an_agent_that_only_answers_garbage_is_a_bad_answer_not_a_timeout():
    async def garbled(agent, request, addr):
        agent.transport.sendto(b"\x30\x03\x02\x01", addr)

    value, drops, _ = asyncio.run(run_against(garbled, timeout=0.2, retries=1))
    assert isinstance(value, SnmpBadAnswer) and value.reason == "bad_answer"
    assert drops == {"malformed": 2}


def test_unsigned_values_without_their_leading_zero_are_read_as_net_snmp_does():
    from collectors.snmp import ber

    async def sloppy(agent, request, addr):
        asked = ber.decode_message(request)
        # A correct encoder writes 41 05 00 ff ff ff fe; a sloppy agent drops the 00.
        varbind = ber.encode_sequence(ber.encode_oid(SYS_NAME) + bytes.fromhex("4104fffffffe"))
        head = ber.encode_integer(asked.request_id) + ber.encode_integer(0) + ber.encode_integer(0)
        pdu = ber._tlv(ber.RESPONSE, head + ber.encode_sequence(varbind))
        agent.transport.sendto(
            ber.encode_sequence(ber.encode_integer(1) + ber.encode_octets(asked.community) + pdu), addr
        )

    value, drops, _ = asyncio.run(run_against(sloppy))
    assert value == {SYS_NAME: 4294967294} and drops == {}


def test_a_closed_port_fails_fast_as_unreachable_and_others_still_answer(lab):
    """ICMP port unreachable (IP_RECVERR on the shared socket) fails that agent's request at once, instead of
    after timeout x (retries + 1), and only that agent's: the lab's switch on the same socket answers."""
    import socket as socketlib
    import time

    from collectors import system
    from collectors.credentials import SnmpV2cCredentials
    from collectors.snmp.api import SnmpTarget, SnmpUnreachable
    from collectors.snmp.client import SnmpClient

    with socketlib.socket(socketlib.AF_INET, socketlib.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    switch = next(d for d in lab.devices if d.role == "switch" and not d.v3)

    async def go():
        client = SnmpClient("native")
        try:
            dead = await client.session(SnmpTarget("127.0.0.1", closed, 3.0, 2), SnmpV2cCredentials("p", "public"))
            live = await client.session(
                SnmpTarget("127.0.0.1", lab.agent_port, 3.0, 1), SnmpV2cCredentials("p", switch.hostname)
            )
            t0 = time.monotonic()
            outcome = await asyncio.gather(system.collect(dead), system.collect(live), return_exceptions=True)
            return outcome, time.monotonic() - t0
        finally:
            client.close()

    (refused, answered), seconds = asyncio.run(go())
    assert isinstance(refused, SnmpUnreachable) and refused.reason == "unreachable"
    assert answered.name == switch.hostname and seconds < 2.0  # not 3 x 3 s
