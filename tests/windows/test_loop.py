"""The app's event loop on Windows: qasync runs asyncio's proactor (IOCP) loop there.

On Linux, qasync's loop is a selector loop; on Windows it is built on
``asyncio.ProactorEventLoop``, which has no ``add_reader``/``add_writer`` and does sockets,
UDP and pipes through completion ports instead. Everything the softphone does on the loop
(websockets signaling, aiortc's UDP for voice) must work on that loop: these tests run it there.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sigphone.server import ServerConfig, SignalServer
from sigphone.ui.loop import QasyncLoop

from ..support.config import APP, NO_TOKEN, fast_signal


def run_on_app_loop(qapp: object, main: Callable[[], Awaitable[Any]]) -> Any:
    loop = QasyncLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(asyncio.wait_for(main(), 60))
    finally:
        asyncio.set_event_loop(None)


def test_the_app_loop_is_a_proactor_loop(qapp: object) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, asyncio.ProactorEventLoop)
        with pytest.raises(NotImplementedError):  # why app code never uses add_reader
            loop.add_reader(0, lambda: None)

    run_on_app_loop(qapp, main)


def test_signaling_login_message_and_call_on_the_app_loop(qapp: object) -> None:
    """Server and SDK (websockets over IOCP sockets) in one process, on the app's loop."""

    async def main() -> None:
        async with SignalServer(ServerConfig(port=0, data=None, apps={APP: None})) as server:
            alice = await fast_signal(server.url).login("alice", NO_TOKEN)
            bob = await fast_signal(server.url).login("bob", NO_TOKEN)
            got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            bob.on_message_instant_receive = lambda account, _uid, msg: got.set_result(msg)
            await alice.message_instant_send("bob", "hello from Windows")
            assert await asyncio.wait_for(got, 10) == "hello from Windows"

            ringing: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            bob.on_invite_received = ringing.set_result
            call = await alice.channel_invite_user2("room", "bob")
            accepted: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            call.on_invite_accepted_by_peer = accepted.set_result
            incoming = await asyncio.wait_for(ringing, 10)
            assert incoming.peer == "alice"
            await incoming.channel_invite_accept()
            await asyncio.wait_for(accepted, 10)
            await call.channel_invite_end()
            await alice.logout()
            await bob.logout()

    run_on_app_loop(qapp, main)


def test_udp_on_the_app_loop(qapp: object) -> None:
    """aiortc's ICE and RTP ride on create_datagram_endpoint: an echo round trip."""

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.transport.sendto(data, addr)  # type: ignore[attr-defined]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        port = server.get_extra_info("sockname")[1]
        got: asyncio.Future[bytes] = loop.create_future()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                got.set_result(data)

        client, _ = await loop.create_datagram_endpoint(
            Client, remote_addr=("127.0.0.1", port), family=socket.AF_INET
        )
        client.sendto(b"ping")
        assert await asyncio.wait_for(got, 10) == b"ping"
        client.close()
        server.close()

    run_on_app_loop(qapp, main)


def test_two_webrtc_peers_connect_on_the_app_loop(qapp: object) -> None:
    """The voice path's transport (ICE, DTLS, SRTP over UDP) between two aiortc peers."""
    aiortc = pytest.importorskip("aiortc")

    async def main() -> None:
        config = aiortc.RTCConfiguration(iceServers=[])
        caller = aiortc.RTCPeerConnection(config)
        callee = aiortc.RTCPeerConnection(config)
        try:
            channel = caller.createDataChannel("probe")
            opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            channel.on("open", lambda: opened.done() or opened.set_result(None))
            await caller.setLocalDescription(await caller.createOffer())
            await callee.setRemoteDescription(caller.localDescription)
            await callee.setLocalDescription(await callee.createAnswer())
            await caller.setRemoteDescription(callee.localDescription)
            await asyncio.wait_for(opened, 30)
            assert caller.connectionState == "connected"
        finally:
            await caller.close()
            await callee.close()

    run_on_app_loop(qapp, main)
