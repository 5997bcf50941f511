"""Misbehaving UDP peers on loopback: a device that never answers and one that answers late."""

from __future__ import annotations

import asyncio


class _Silent(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = 0

    def datagram_received(self, data, addr):
        self.received += 1  # read and drop: a dead device that still has an address


class BlackHole:
    """A bound UDP port that reads every request and never answers."""

    @classmethod
    async def start(cls, host: str = "127.0.0.1") -> BlackHole:
        self = cls()
        loop = asyncio.get_running_loop()
        self.transport, self.protocol = await loop.create_datagram_endpoint(_Silent, local_addr=(host, 0))
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        self.transport.close()


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: DelayRelay, client):
        self.relay, self.client = relay, client

    def datagram_received(self, data, addr):
        if self.relay.tamper is not None:
            self.relay.front.sendto(self.relay.tamper(data), self.client)  # a forged copy first
        self.relay.front.sendto(data, self.client)


class _Front(asyncio.DatagramProtocol):
    def __init__(self, relay: DelayRelay):
        self.relay = relay

    def datagram_received(self, data, addr):
        asyncio.get_running_loop().call_later(self.relay.delay, self.relay.forward, data, addr)


class DelayRelay:
    """Forwards each request to a real agent ``delay`` seconds late: a slow device, real answers."""

    @classmethod
    async def start(cls, target: tuple[str, int], delay: float, host: str = "127.0.0.1") -> DelayRelay:
        self = cls()
        self.target, self.delay = target, delay
        self.tamper = None  # optional: bytes -> bytes, sent before each genuine answer
        self.upstreams: dict = {}
        self.pending: set = set()
        loop = asyncio.get_running_loop()
        self.front, _ = await loop.create_datagram_endpoint(lambda: _Front(self), local_addr=(host, 0))
        self.port = self.front.get_extra_info("sockname")[1]
        return self

    def forward(self, data: bytes, client) -> None:
        upstream = self.upstreams.get(client)
        if upstream is None:
            task = asyncio.ensure_future(self._open_and_send(data, client))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        else:
            upstream.sendto(data)

    async def _open_and_send(self, data: bytes, client) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Upstream(self, client), remote_addr=self.target)
        self.upstreams[client] = transport
        transport.sendto(data)

    def close(self) -> None:
        for t in self.upstreams.values():
            t.close()
        self.front.close()
