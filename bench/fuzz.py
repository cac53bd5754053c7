"""A longer fuzz of both edges' decoders (issue 12); not run in CI (the suite runs short ones).

    python -m bench.fuzz                 # 20,000 frames per target, then a live round
    python -m bench.fuzz --examples 200000

Targets: the native decoder (``frames.decode_client``), the legacy codec (``legacy.decode``
and ``parse_call2``), the Server API body parser (``text.loads``), each fed raw bytes,
JSON-shaped frames with random fields (surrogates, deep nesting, huge numbers included) and
byte-level mutations of valid frames. A decoder may only answer with a SignalError 1004/1005;
anything else is a finding. The live round sends fuzzed frames to a real server on both
edges and then checks that a well-behaved user still logs in and exchanges a message.
Results: docs/benchmarks.md ("Decoder fuzzing").
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigphone.protocol import frames as f
from sigphone.protocol import legacy as w
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.text import loads

ALLOWED = {ErrorCode.GENERAL_E_WRONG_PARAM, ErrorCode.GENERAL_E_LARGE_PARAM}

texts = st.text() | st.sampled_from(["\ud800", "x\udc00", "é", "e\u0301", "", " ", "\x00"])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(texts, kids, max_size=4),
    max_leaves=16,
)
native_ops = st.sampled_from(
    ["login", "logout", "ping", "ack", "set_attr", "get_attr", "send", "ch_join", "ch_send",
     "ch_set_attr", "invoke", "call_invite", "call_end", "nope", ""]
)  # fmt: skip
native_keys = st.sampled_from(
    ["id", "peer", "msg", "name", "value", "account", "token", "app_id", "seq", "cseq",
     "resume", "channel", "func", "args", "call", "extra", "client_id"]
)  # fmt: skip
legacy_funcs = st.sampled_from(
    ["user_sendmsg", "user_getmsg", "channel_join", "channel_sendmsg", "voip_invite",
     "channel_set_attr", "user_logout", "nope"]
)  # fmt: skip
VALID = [
    b'{"op":"login","id":1,"app_id":"a","account":"b","token":"_no_need_token"}',
    b'{"op":"send","id":2,"peer":"bob","msg":"hello","cseq":3}',
    b'["call2",["user_sendmsg",1,{"peer":"bob","content":"hi"}]]',
    b'["login",{"vid":"a","account":"b","token":"t","device":"websdk"}]',
]


#: What the live round's random frames are made of.
PIECES = [b"{", b"}", b"[", b"]", b'"op"', b":", b'"send"', b'"login"', b",", b'"call2"']
PIECES += [b'"id"', b"1", b"null", b'"\\ud800"', b"-1", b"1e999", b'"msg"', b"[[[[[[[["]


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


@st.composite
def native_frames(draw: Any) -> bytes:
    fields = draw(st.dictionaries(native_keys, json_values, max_size=6))
    text = json.dumps({"op": draw(native_ops), **fields})  # ensure_ascii: surrogates escaped
    return text.encode()


@st.composite
def legacy_frames(draw: Any) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        args = draw(st.dictionaries(texts, json_values, max_size=5))
        payload: Any = [draw(legacy_funcs), draw(st.integers() | texts), args]
        return json.dumps(["call2", payload]).encode()
    if kind == 1:
        return json.dumps(["login", draw(json_values)]).encode()
    return json.dumps(draw(json_values)).encode()


@st.composite
def mutations(draw: Any) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(data) - 1))
        choice = draw(st.integers(0, 2))
        if choice == 0:
            data[i] = draw(st.integers(0, 255))
        elif choice == 1:
            del data[i]
        else:
            data[i:i] = draw(st.sampled_from([b"\\ud800", b"[[[[", b"}", b'"', b"1e999", b"\xff"]))
    return bytes(data)


def raw_inputs() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=512),
        mutations(),
        st.integers(1, 30_000).map(deep),
    )


def legacy_decode(data: bytes) -> None:
    command, payload = w.decode(data)
    if command == "call2":
        w.parse_call2(payload)


TARGETS: dict[str, tuple[Callable[[bytes], object], st.SearchStrategy[bytes]]] = {
    "native decode_client": (f.decode_client, st.one_of(native_frames(), raw_inputs())),
    "legacy decode + parse_call2": (legacy_decode, st.one_of(legacy_frames(), raw_inputs())),
    "Server API body (text.loads)": (loads, st.one_of(legacy_frames(), raw_inputs())),
}


def fuzz(name: str, fn: Callable[[bytes], object], strategy: Any, examples: int) -> dict:
    outcomes: collections.Counter[str] = collections.Counter()
    findings: list[str] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(data: bytes) -> None:
        try:
            fn(data)
        except SignalError as exc:
            outcomes[str(int(exc.code))] += 1
            if exc.code not in ALLOWED:
                findings.append(f"{exc} for {data[:80]!r}")
        except Exception:
            outcomes["crash"] += 1
            findings.append(f"{traceback.format_exc(limit=2)} for {data[:80]!r}")
        else:
            outcomes["accepted"] += 1

    start = time.perf_counter()
    run()
    took = time.perf_counter() - start
    tried = sum(outcomes.values())
    return {"target": name, "tried": tried, "seconds": took, **outcomes, "findings": findings}


async def live(frames: int, seed: int = 12) -> dict:
    """Fuzzed frames to a real server on both edges, then a normal user must be served."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from sigphone.sdk import Signal
    from sigphone.server import ServerConfig, SignalServer

    rng = random.Random(seed)
    pieces = PIECES
    cfg = ServerConfig(port=0, data=None, apps={"fuzz": None})
    cfg.limits.rate = cfg.limits.burst = 1e9
    sent = closed = 0
    async with SignalServer(cfg) as server:
        for edge in ("native", "legacy"):
            ws = await connect(server.url, compression=None)
            if edge == "legacy":  # the first frame picks the legacy adapter
                await ws.send(json.dumps(["login", {"vid": "fuzz", "account": "f", "token": "x"}]))
            for _ in range(frames):
                body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
                if edge == "legacy" and rng.random() < 0.5:
                    body = b'["call2",["user_sendmsg",1,' + body + b"]]"
                try:
                    await ws.send(body)
                    sent += 1
                except ConnectionClosed:
                    closed += 1
                    ws = await connect(server.url, compression=None)
            await ws.close()
        user = await Signal("fuzz", server=server.url).login("alice", "_no_need_token")
        got: list[str] = []
        user.on_message_instant_receive = lambda a, u, m: got.append(m)
        await user.message_instant_send("alice", "still served")
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.01)
        await user.logout()
    return {"target": "live server, both edges", "tried": sent, "reconnects": closed,
            "user served afterwards": got == ["still served"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    p.add_argument("--examples", type=int, default=20_000, help="frames per decoder target")
    p.add_argument("--live-frames", type=int, default=5_000, help="frames per edge, live round")
    args = p.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    results = [fuzz(name, fn, s, args.examples) for name, (fn, s) in TARGETS.items()]
    results.append(asyncio.run(live(args.live_frames)))
    bad = 0
    for row in results:
        findings = row.pop("findings", [])
        bad += len(findings)
        print(json.dumps(row))
        for finding in findings[:5]:
            print("  FINDING:", finding)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
