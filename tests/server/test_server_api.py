"""The Server API (S1) on a real server on loopback: signatures, every endpoint, isolation."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from sigphone.protocol.token import make_token, verify_token
from sigphone.sdk import Call, ErrorCode, Session
from sigphone.sdk.server_api import signed_headers
from sigphone.server import SignalServer
from sigphone.server.api.openapi import OPENAPI
from sigphone.server.cli import build_parser, config_from_args

from ..support.config import APP, CERT, CERT_APP, NO_TOKEN, fast_config, fast_signal
from ..support.waiting import until

OTHER_APP = "0THERAPP0000000000000000000000AA"
OTHER_CERT = "0123456789abcdef0123456789abcdef"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
async def api_server(tmp_path: Path) -> AsyncIterator[SignalServer]:
    cfg = fast_config(tmp_path / "data")
    cfg.apps[OTHER_APP] = OTHER_CERT
    cfg.api_port = 0
    cfg.api.dev_tokens = True
    async with SignalServer(cfg) as srv:
        yield srv


class Api:
    """A signed HTTP client for one app, as a customer's server would use it."""

    def __init__(self, http: aiohttp.ClientSession, base: str, app: str, cert: str) -> None:
        self.http, self.base, self.app, self.cert = http, base, app, cert

    def headers(self, method: str, path: str, body: bytes = b"", **kw: Any) -> dict[str, str]:
        return signed_headers(self.app, self.cert, method, path, body, **kw)

    async def raw(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        headers = self.headers(method, path, body) if headers is None else headers
        async with self.http.request(method, self.base + path, data=body, headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        return await self.raw(method, path, data)


@pytest.fixture
async def http(api_server: SignalServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def base_url(server: SignalServer) -> str:
    assert server.api is not None
    return f"http://127.0.0.1:{server.api.port}"


@pytest.fixture
def api(api_server: SignalServer, http: aiohttp.ClientSession) -> Api:
    return Api(http, base_url(api_server), CERT_APP, CERT)


@pytest.fixture
def other(api_server: SignalServer, http: aiohttp.ClientSession) -> Api:
    return Api(http, base_url(api_server), OTHER_APP, OTHER_CERT)


@pytest.fixture
async def user(api_server: SignalServer) -> AsyncIterator[Callable[..., Any]]:
    """``await user("bob")``: a session of the certificate app (logged out after)."""
    sessions: list[Session] = []

    async def do_login(account: str, app: str = CERT_APP, cert: str = CERT) -> Session:
        token = make_token(account, app, cert, 0)
        session = await fast_signal(api_server.url, app).login(account, token)
        sessions.append(session)
        return session

    yield do_login
    for session in sessions:
        if session.get_status():
            await session.logout()


class EventStream:
    """Reads the server-sent event stream in the background."""

    def __init__(self, api: Api, query: str = "") -> None:
        self.api = api
        self.path = "/api/v1/events" + query
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.status = 0
        self._opened = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        url = self.api.base + self.path
        async with self.api.http.get(url, headers=self.api.headers("GET", self.path)) as r:
            self.status = r.status
            self._opened.set()
            kind = ""
            async for line in r.content:
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: "):
                    self.events.append((kind, json.loads(text[6:])))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, data in self.events if k == kind]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def stream(api_server: SignalServer) -> AsyncIterator[Callable[..., Any]]:
    streams: list[EventStream] = []

    async def open_stream(api: Api, query: str = "") -> EventStream:
        before = len(api_server.api.subscribers)  # type: ignore[union-attr]
        s = EventStream(api, query)
        streams.append(s)
        await asyncio.wait_for(s._opened.wait(), 10)
        await until(lambda: len(api_server.api.subscribers) > before)  # type: ignore[union-attr]
        return s

    yield open_stream
    for s in streams:
        await s.close()


# --- Authentication ---------------------------------------------------------------------------


async def test_signature_failures(api_server, api, http):
    path = "/api/v1/users/bob/status"
    status, body = await api.raw("GET", path, headers={})
    assert (status, body["code"]) == (401, ErrorCode.LOGIN_E_TOKENWRONG)
    wrong_cert = Api(http, api.base, CERT_APP, "f" * 32)
    assert (await wrong_cert("GET", path))[0] == 401
    unknown_app = Api(http, api.base, "nosuchapp", CERT)
    assert (await unknown_app("GET", path))[0] == 401
    # A signature for one body does not cover another.
    body_a, body_b = b'{"msg":"a"}', b'{"msg":"b"}'
    headers = api.headers("POST", "/api/v1/users/bob/messages", body_a)
    status, _ = await api.raw("POST", "/api/v1/users/bob/messages", body_b, headers)
    assert status == 401
    # Nor another path.
    status, _ = await api.raw("GET", "/api/v1/users/eve/status", b"", api.headers("GET", path))
    assert status == 401
    stale = api.headers("GET", path, now=time.time() - 3600)
    status, body = await api.raw("GET", path, b"", stale)
    assert (status, body["code"]) == (401, ErrorCode.LOGIN_E_TOKENEXPIRED)
    malformed = {**api.headers("GET", path), "X-Sigphone-Timestamp": "soon"}
    assert (await api.raw("GET", path, b"", malformed))[0] == 401


async def test_replayed_request_is_refused(api_server, api):
    path = "/api/v1/users/bob/status"
    headers = api.headers("GET", path)
    assert (await api.raw("GET", path, b"", headers))[0] == 200
    status, body = await api.raw("GET", path, b"", headers)
    assert (status, body["code"]) == (401, ErrorCode.LOGIN_E_TOKENWRONG)
    assert "replay" in body["reason"]


async def test_app_without_certificate_cannot_use_the_api(api_server, http):
    no_cert = Api(http, base_url(api_server), APP, "")
    status, body = await no_cert("GET", "/api/v1/users/bob/status")
    assert (status, body["code"]) == (401, ErrorCode.LOGIN_E_TOKENWRONG)
    assert "certificate" in body["reason"]


# --- Endpoints ---------------------------------------------------------------------------------


async def test_user_status(api_server, api, user):
    assert await api("GET", "/api/v1/users/bob/status") == (200, {"account": "bob", "status": 0})
    bob = await user("bob")
    assert (await api("GET", "/api/v1/users/bob/status"))[1]["status"] == 1
    await bob.logout()
    assert (await api("GET", "/api/v1/users/bob/status"))[1]["status"] == 0
    status, body = await api("GET", "/api/v1/users/" + "b" * 129 + "/status")
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_LARGE_PARAM)


async def test_user_attributes(api_server, api, user):
    bob = await user("bob")
    assert await api("PUT", "/api/v1/users/bob/attrs/nick", {"value": "Bobby"}) == (200, {})
    assert await bob.get_attr("nick") == "Bobby"
    await bob.set_attr("mood", "happy")
    status, body = await api("GET", "/api/v1/users/bob/attrs")
    assert (status, body) == (200, {"account": "bob", "attrs": {"mood": "happy", "nick": "Bobby"}})
    status, body = await api("PUT", "/api/v1/users/bob/attrs/nick", {"value": "x" * 129})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_LARGE_PARAM)
    status, body = await api("PUT", "/api/v1/users/bob/attrs/nick", {"value": 3})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)


async def test_send_message_online_and_offline(api_server, api, user):
    bob = await user("bob")
    got: list[tuple[str, str]] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append((account, msg))
    assert (await api("POST", "/api/v1/users/bob/messages", {"msg": "hi"}))[0] == 200
    assert (await api("POST", "/api/v1/users/bob/messages", {"from": "ops", "msg": "yo"}))[0] == 200
    await until(lambda: len(got) == 2)
    assert got == [("_server", "hi"), ("ops", "yo")]
    # Kept durably for an offline user, delivered at login.
    assert (await api("POST", "/api/v1/users/carol/messages", {"msg": "later"}))[0] == 200
    carol = await user("carol")
    later: list[str] = []
    carol.on_message_instant_receive = lambda a, u, m: later.append(m)
    await until(lambda: later == ["later"])
    status, body = await api("POST", "/api/v1/users/bob/messages", {"msg": "x" * 8193})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_LARGE_PARAM)
    status, body = await api.raw("POST", "/api/v1/users/bob/messages", b"not json")
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)


async def test_channel_users(api_server, api, user):
    status, body = await api("GET", "/api/v1/channels/room/users")
    assert (status, body) == (200, {"channel": "room", "users": [], "num": 0})
    bob = await user("bob")
    carol = await user("carol")
    await bob.channel_join("room")
    await carol.channel_join("room")
    status, body = await api("GET", "/api/v1/channels/room/users")
    assert (status, body) == (200, {"channel": "room", "users": ["bob", "carol"], "num": 2})


async def test_event_stream_channel_joins_and_leaves(api_server, api, other, user, stream):
    events = await stream(api, "?types=channel")
    elsewhere = await stream(other, "?types=channel")
    bob = await user("bob")
    channel = await bob.channel_join("room")
    await channel.channel_leave()
    await until(lambda: len(events.of("channel")) == 2)
    assert events.of("channel") == [
        {"type": "channel", "channel": "room", "account": "bob", "action": "join", "code": 0},
        {
            "type": "channel",
            "channel": "room",
            "account": "bob",
            "action": "leave",
            "code": ErrorCode.LEAVECHANNEL_E_BYUSER,
        },
    ]
    assert elsewhere.events == []


async def test_call_on_behalf_of_an_account(api_server, api, user, stream):
    events = await stream(api, "?types=call")
    bob = await user("bob")
    incoming: list[Call] = []
    bob.on_invite_received = incoming.append
    extra = {"srcNum": "+123456789", "destMediaUid": 7}
    status, body = await api(
        "POST", "/api/v1/calls", {"caller": "operator", "callee": "bob", "channel": "support",
                                  "extra": extra}
    )  # fmt: skip
    assert status == 200
    cid = body["call"]
    await until(lambda: incoming)
    call = incoming[0]
    assert (call.peer, call.channel, json.loads(call.extra)) == ("operator", "support", extra)
    ended: list[str] = []
    call.on_invite_end_by_peer = ended.append
    await call.channel_invite_accept("ok")
    await until(lambda: [e["event"] for e in events.of("call")][-1:] == ["accepted_by_peer"])
    assert [(e["to"], e["event"]) for e in events.of("call")] == [
        ("callee", "incoming"),
        ("caller", "received_by_peer"),
        ("caller", "accepted_by_peer"),
    ]
    assert all(e["call"] == cid for e in events.of("call"))
    assert (await api("DELETE", f"/api/v1/calls/{cid}"))[0] == 200
    await until(lambda: ended)
    assert api_server.calls.live == 0
    status, body = await api("DELETE", f"/api/v1/calls/{cid}")
    assert (status, body["code"]) == (404, ErrorCode.INVITE_E_OTHER)
    status, body = await api("POST", "/api/v1/calls", {"caller": "op", "callee": "a b"})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)


async def test_call_to_offline_account_fails_703_on_the_stream(api_server, api, stream):
    events = await stream(api, "?types=call")
    body = {
        "caller": "op",
        "callee": "nobody",
        "channel": "c",
        "extra": '{"_require_peer_online":1}',
    }
    assert (await api("POST", "/api/v1/calls", body))[0] == 200
    await until(lambda: events.of("call"))
    event = events.of("call")[0]
    assert (event["event"], json.loads(event["extra"])) == ("failed", {"ecode": 703})


async def test_event_stream_online_offline_attr(api_server, api, user, stream):
    events = await stream(api)
    calls_only = await stream(api, "?types=call")
    bob = await user("bob")
    await bob.set_attr("nick", "B")
    await api("PUT", "/api/v1/users/bob/attrs/mood", {"value": "ok"})
    await bob.logout()
    await until(lambda: events.of("offline"))
    assert events.of("online") == [{"type": "online", "account": "bob"}]
    assert events.of("attr") == [
        {"type": "attr", "account": "bob", "name": "nick", "value": "B"},
        {"type": "attr", "account": "bob", "name": "mood", "value": "ok"},
    ]
    assert events.of("offline") == [{"type": "offline", "account": "bob", "reason": 101}]
    assert calls_only.events == []
    status, body = await api("GET", "/api/v1/events?types=bogus")
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)


async def test_other_apps_data_is_unreachable(api_server, api, other, user, stream):
    theirs = await stream(other)
    bob = await user("bob")  # in CERT_APP
    await bob.set_attr("secret", "42")
    assert (await other("GET", "/api/v1/users/bob/status"))[1]["status"] == 0
    assert (await other("GET", "/api/v1/users/bob/attrs"))[1]["attrs"] == {}
    _, body = await api("POST", "/api/v1/calls", {"caller": "op", "callee": "bob", "channel": "c"})
    status, _ = await other("DELETE", f"/api/v1/calls/{body['call']}")
    assert status == 404
    await other("POST", "/api/v1/users/bob/messages", {"msg": "not for you"})
    got: list[str] = []
    bob.on_message_instant_receive = lambda a, u, m: got.append(m)
    assert (await api("POST", "/api/v1/users/bob/messages", {"msg": "mine"}))[0] == 200
    await until(lambda: got)
    assert got == ["mine"]
    assert (await api("DELETE", f"/api/v1/calls/{body['call']}"))[0] == 200
    assert theirs.events == []


# --- Development tokens, the OpenAPI document, flags -------------------------------------------


async def test_dev_tokens(api_server, http):
    base = base_url(api_server)
    async with http.get(f"{base}/api/token?app_id={CERT_APP}&account=alice") as r:
        assert r.status == 200
        token = (await r.json())["token"]
    verify_token(token, account="alice", app_id=CERT_APP, app_certificate=CERT, now=time.time())
    alice = await fast_signal(api_server.url, CERT_APP).login("alice", token)
    await alice.logout()
    async with http.post(f"{base}/api/token", json={"app_id": APP, "account": "bob"}) as r:
        assert (await r.json())["token"] == NO_TOKEN
    async with http.get(f"{base}/api/token?app_id=nope&account=bob") as r:
        assert r.status == 400


async def test_dev_token_without_app_id_on_a_one_app_server(tmp_path):
    cfg = fast_config(tmp_path / "d")
    cfg.apps = {CERT_APP: CERT}
    cfg.api_port = 0
    cfg.api.dev_tokens = True
    async with SignalServer(cfg) as srv, aiohttp.ClientSession() as http:
        async with http.get(f"{base_url(srv)}/api/token?account=alice") as r:
            token = (await r.json())["token"]
        alice = await fast_signal(srv.url, CERT_APP).login("alice", token)
        await alice.logout()


async def test_dev_tokens_are_off_by_default(tmp_path):
    cfg = fast_config(tmp_path / "d")
    cfg.api_port = 0
    async with SignalServer(cfg) as srv, aiohttp.ClientSession() as http:
        url = f"{base_url(srv)}/api/token?app_id={CERT_APP}&account=alice"
        async with http.get(url) as r:
            assert r.status == 404


async def test_openapi_document(api_server, http):
    async with http.get(f"{base_url(api_server)}/api/openapi.json") as r:
        assert r.status == 200
        served = await r.json()
    assert served == OPENAPI
    assert json.loads((DOCS / "server-api.openapi.json").read_text()) == OPENAPI


def _sample(param: dict[str, Any]) -> str:
    return {"account": "bob", "channel": "room", "name": "nick", "call": "abc"}.get(
        param["name"], "x"
    )


async def test_every_documented_operation_answers_without_5xx(api_server, api):
    """Walk the OpenAPI document with sample values: every operation answers, none with 5xx."""
    for template, operations in OPENAPI["paths"].items():
        for method, op in operations.items():
            path = template
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    path = path.replace("{" + param["name"] + "}", _sample(param))
            if path == "/api/v1/events":
                continue  # a stream: covered by its own tests
            body = {"value": "v", "msg": "m", "caller": "op", "callee": "bob", "channel": "c"}
            status, _ = await api(method.upper(), path, body if method != "get" else None)
            assert status < 500, (method, path, status)
            documented = {int(code) for code in op["responses"]}
            assert status in documented, (method, path, status)


def test_cli_flags():
    args = build_parser().parse_args(["--app", "a:c", "--dev-tokens", "--api-port", "0"])
    cfg = config_from_args(args)
    assert cfg.api_port == 0 and cfg.api.dev_tokens
    cfg = config_from_args(build_parser().parse_args(["--app", "a", "--memory"]))
    assert cfg.api_port == 9001 and not cfg.api.dev_tokens
    cfg = config_from_args(build_parser().parse_args(["--app", "a", "--no-api"]))
    assert cfg.api_port is None


async def test_random_requests_never_get_5xx(api_server, api):
    """A seeded fuzz of path parameters and bodies: bad input is 4xx with a seed code."""
    rng = random.Random(1)
    alphabet = "ab Z9_-#?/%é\u200b\x00\U0001f600" + "x" * 10

    def word() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 130])))

    def value() -> Any:
        return rng.choice([None, 1, True, [], {}, word(), "x" * 9000, {"a": [1]}])

    templates = [
        ("GET", "/api/v1/users/{}/status"),
        ("GET", "/api/v1/users/{}/attrs"),
        ("PUT", "/api/v1/users/{}/attrs/{}"),
        ("POST", "/api/v1/users/{}/messages"),
        ("GET", "/api/v1/channels/{}/users"),
        ("POST", "/api/v1/calls"),
        ("DELETE", "/api/v1/calls/{}"),
    ]
    keys = ["value", "msg", "from", "caller", "callee", "channel", "extra"]
    statuses: list[int] = []
    for _ in range(300):
        method, template = rng.choice(templates)
        path = template.format(*(quote(word(), safe="") for _ in range(template.count("{}"))))
        body: Any = {k: value() for k in rng.sample(keys, rng.randint(0, len(keys)))}
        data = json.dumps(body).encode() if rng.random() < 0.9 else rng.randbytes(20)
        headers = api.headers(method, path, data)
        url = URL(api.base + path, encoded=True)
        async with api.http.request(method, url, data=data, headers=headers) as r:
            assert r.status < 500, (method, path, body, r.status)
            statuses.append(r.status)
            if r.status >= 400 and r.status != 404:
                assert "code" in await r.json(content_type=None), (method, path)
    assert 401 not in statuses  # every request was signed right: the handlers saw them all
    assert statuses.count(200) > 10 and statuses.count(400) > 100


async def test_channel_is_in_attributes_and_messages(api_server, api, other, user):
    bob = await user("bob")
    seen: list[tuple] = []
    await bob.channel_join(
        "room",
        on_channel_attr_updated=lambda name, value, kind: seen.append(("attr", name, value, kind)),
        on_message_channel_receive=lambda account, uid, msg: seen.append(("msg", account, msg)),
    )
    assert await api("GET", "/api/v1/channels/room/users/bob") == (
        200,
        {"channel": "room", "account": "bob", "isin": 1},
    )
    assert (await api("GET", "/api/v1/channels/room/users/carol"))[1]["isin"] == 0
    assert (await other("GET", "/api/v1/channels/room/users/bob"))[1]["isin"] == 0

    assert await api("PUT", "/api/v1/channels/room/attrs/topic", {"value": "launch"}) == (200, {})
    assert await api("GET", "/api/v1/channels/room/attrs") == (
        200,
        {"channel": "room", "attrs": {"topic": "launch"}},
    )
    assert await api("DELETE", "/api/v1/channels/room/attrs/topic") == (200, {})
    await api("PUT", "/api/v1/channels/room/attrs/a", {"value": "1"})
    assert await api("DELETE", "/api/v1/channels/room/attrs") == (200, {})
    assert await api("POST", "/api/v1/channels/room/messages", {"msg": "hello room"}) == (
        200,
        {"num": 1},
    )
    await until(lambda: len(seen) == 5)
    assert seen == [
        ("attr", "topic", "launch", "update"),
        ("attr", "topic", "", "del"),
        ("attr", "a", "1", "update"),
        ("attr", "", "", "clear"),
        ("msg", "_server", "hello room"),
    ]
    assert await api("POST", "/api/v1/channels/empty/messages", {"msg": "x"}) == (200, {"num": 0})


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("PUT", "/api/v1/channels/room/attrs/topic", {"value": "v" * 1025}, 1005),
        ("PUT", "/api/v1/channels/room/attrs/topic", {"value": 5}, 1004),
        ("PUT", "/api/v1/channels/_agora_user_online/attrs/x", {"value": "v"}, 1004),
        ("POST", "/api/v1/channels/room/messages", {"msg": "m" * 8193}, 1005),
        ("POST", "/api/v1/channels/room/messages", {}, 1004),
        ("POST", "/api/v1/channels/room/messages", {"msg": "x", "from": "a b"}, 1004),
    ],
)
async def test_channel_endpoint_bad_requests(api_server, api, method, path, body, code):
    status, reply = await api(method, path, body)
    assert (status, reply["code"]) == (400, code)


async def test_admin_logs_a_user_out_with_103(api_server, api, user):
    bob = await user("bob")
    codes: list[int] = []
    left: list[int] = []
    bob.on_logout = codes.append
    await bob.channel_join("room", on_channel_leaved=left.append)
    assert await api("DELETE", "/api/v1/users/bob/session") == (
        200,
        {"account": "bob", "kicked": 1},
    )
    await until(lambda: codes and left)
    assert codes == [ErrorCode.LOGOUT_E_KICKED]
    assert left == [ErrorCode.LEAVECHANNEL_E_KICKED]
    assert (await api("GET", "/api/v1/users/bob/status"))[1]["status"] == 0
    assert await api("DELETE", "/api/v1/users/bob/session") == (
        200,
        {"account": "bob", "kicked": 0},
    )


async def test_admin_removes_a_channel_member_with_601(api_server, api, user):
    bob = await user("bob")
    carol = await user("carol")
    bob_left: list[int] = []
    carol_saw: list[str] = []
    await bob.channel_join("room", on_channel_leaved=bob_left.append)
    await carol.channel_join("room", on_channel_user_leaved=lambda a, uid: carol_saw.append(a))
    path = "/api/v1/channels/room/users/bob"
    assert await api("DELETE", path) == (200, {"channel": "room", "account": "bob", "kicked": 1})
    await until(lambda: bob_left and carol_saw)
    assert bob_left == [ErrorCode.LEAVECHANNEL_E_KICKED]
    assert carol_saw == ["bob"]
    assert bob.get_status() == 2  # still logged in: only the channel is gone
    assert (await api("GET", "/api/v1/channels/room/users"))[1]["users"] == ["carol"]
    assert (await api("DELETE", path))[1]["kicked"] == 0
    assert (await api("DELETE", "/api/v1/channels/other/users/carol"))[1]["kicked"] == 0
