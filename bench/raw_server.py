"""Baseline servers without our protocol: what Python can do at all with a relay.

``websockets``: the same library and settings as our server (compression off), one handler
coroutine per connection, ``broadcast()`` for rooms: the raw ceiling our server is held
against. ``picows``: the cheapest relay we can write (C framing, callbacks, no coroutine per
connection); it is only used to calibrate the load generator, whose ceiling must be far above
every rate we report.

Both speak one tiny protocol: connect to ``/r/<room>/<name>``; a text message starting with
``@peer `` goes to that peer, any other is sent to everyone in the room (sender included,
as in a channel). Usage: ``python -m bench.raw_server websockets|picows`` (prints the port).
"""

from __future__ import annotations

import asyncio
import sys

__all__ = ["main"]

rooms: dict[str, set] = {}
peers: dict[str, object] = {}


def _parse(path: str) -> tuple[str, str]:
    parts = path.split("?", 1)[0].strip("/").split("/")
    room = parts[1] if len(parts) > 1 else "-"
    name = parts[2] if len(parts) > 2 else ""
    return room, name


async def _serve_websockets() -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    async def handler(ws: ServerConnection) -> None:
        room, name = _parse(ws.request.path if ws.request else "/")
        members = rooms.setdefault(room, set())
        members.add(ws)
        if name:
            peers[name] = ws
        try:
            async for data in ws:
                if isinstance(data, str):
                    data = data.encode()
                if data[:1] == b"@":
                    target, _, body = data[1:].partition(b" ")
                    peer = peers.get(target.decode())
                    if peer is not None:
                        broadcast([peer], body.decode())  # type: ignore[list-item]
                else:
                    broadcast(members, data.decode())
        except ConnectionClosed:
            pass
        finally:
            members.discard(ws)
            if name and peers.get(name) is ws:
                del peers[name]

    async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=64) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        await asyncio.Future()


async def _serve_picows() -> None:
    from picows import (
        WSFrame,
        WSListener,
        WSMsgType,
        WSTransport,
        WSUpgradeRequest,
        ws_create_server,
    )

    class Relay(WSListener):
        def __init__(self, room: str, name: str) -> None:
            self.members = rooms.setdefault(room, set())
            self.name = name

        def on_ws_connected(self, transport: WSTransport) -> None:
            self.t = transport
            self.members.add(transport)
            if self.name:
                peers[self.name] = transport

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            self.members.discard(transport)
            if self.name and peers.get(self.name) is transport:
                del peers[self.name]

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type is WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
                return
            if frame.msg_type is not WSMsgType.TEXT:
                return
            data = frame.get_payload_as_bytes()
            if data[:1] == b"@":
                target, _, body = data[1:].partition(b" ")
                peer = peers.get(target.decode())
                if peer is not None:
                    peer.send(WSMsgType.TEXT, body)  # type: ignore[attr-defined]
            else:
                for member in self.members:
                    member.send(WSMsgType.TEXT, data)

    def factory(request: WSUpgradeRequest) -> Relay:
        return Relay(*_parse(request.path.decode()))

    server = await ws_create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}", flush=True)
    await server.serve_forever()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "websockets"
    run = _serve_picows if kind == "picows" else _serve_websockets
    asyncio.run(run())


if __name__ == "__main__":
    main()
