"""The vendor's unmodified JS SDK (npm agora-signaling-sdk 1.4.0) in headless Chromium.

Our test page (tests/legacy_js/page.html) uses the SDK as an old web app would; the driver
(tests/legacy_js/driver.mjs, playwright-core) routes only the SDK's address lookup and
WebSocket to the test server. Each test starts one browser (about a second).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sigphone.protocol.token import make_token
from sigphone.sdk import Call
from sigphone.server import SignalServer

from ..support.config import APP, CERT, CERT_APP, NO_TOKEN
from ..support.legacy_client import JS_DIR, LegacyClient
from ..support.waiting import until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

Start = Callable[[], Awaitable[LegacyClient]]


@pytest.fixture(scope="module")
def js_tools() -> None:
    """node_modules of tests/legacy_js (npm; .ci/run installs Chromium with apt)."""
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("node and Debian's chromium are needed (.ci/run installs them)")
    if not (JS_DIR / "node_modules" / "agora-signaling-sdk").is_dir():
        subprocess.run([str(JS_DIR / "install.sh")], check=True, timeout=600)


@pytest.fixture
async def browser(js_tools: None, server: SignalServer, tmp_path: Path) -> AsyncIterator[Start]:
    clients: list[LegacyClient] = []

    async def start() -> LegacyClient:
        log = tmp_path / f"browser{len(clients)}.log"
        client = await LegacyClient.javascript(server.port, log)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_js_login_messages_and_invoke(login, browser) -> None:
    bob = await login("bob")
    await bob.message_instant_send("jsal", "sent while you were away")
    got: list[tuple[str, str]] = []
    bob.on_message_instant_receive = lambda account, _uid, msg: got.append((account, msg))

    page = await browser()
    page.do("login", app=APP, account="jsal", token=NO_TOKEN)
    assert (await page.wait("login_ok"))["uid"] == 0
    first = await page.wait("msg")
    assert (first["account"], first["msg"]) == ("bob", "sent while you were away")

    page.do("send", peer="bob", msg="hello from the browser")
    assert (await page.wait("send_result"))["failed"] is False
    await until(lambda: got == [("jsal", "hello from the browser")])
    await bob.message_instant_send("jsal", "live reply")
    assert (await page.wait("msg", 2))["msg"] == "live reply"

    page.do("invoke", func="io.agora.signal.user_query_user_status", args={"account": "bob"})
    result = await page.wait("invoke_result")
    assert result["err"] == ""
    assert result["val"]["status"] == 1


async def test_js_login_refused_with_a_wrong_token(browser) -> None:
    page = await browser()
    token = make_token("jsbad", CERT_APP, "0" * 32, int(time.time()) + 3600)
    page.do("login", app=CERT_APP, account="jsbad", token=token)
    assert (await page.wait("login_failed"))["code"] == 206  # LOGIN_E_TOKENWRONG


async def test_js_certified_login(server, browser) -> None:
    page = await browser()
    token = make_token("jscert", CERT_APP, CERT, int(time.time()) + 3600)
    page.do("login", app=CERT_APP, account="jscert", token=token)
    await page.wait("login_ok")
    assert server.hub.is_online(CERT_APP, "jscert")


async def test_js_channel_with_a_native_member(login, browser) -> None:
    bob = await login("bob")
    seen: list[tuple] = []
    channel = await bob.channel_join(
        "hall",
        on_channel_user_joined=lambda account, _uid: seen.append(("joined", account)),
        on_message_channel_receive=lambda account, _uid, msg: seen.append(("msg", account, msg)),
        on_channel_attr_updated=lambda name, value, kind: seen.append(("attr", name, value, kind)),
    )
    await channel.channel_set_attr("topic", "web 2018")

    page = await browser()
    page.do("login", app=APP, account="jsch", token=NO_TOKEN)
    await page.wait("login_ok")
    page.do("join", name="hall")
    await page.wait("joined")
    users = (await page.wait("user_list"))["users"]
    assert sorted(account for account, _uid in users) == ["bob", "jsch"]
    assert (await page.wait("attr"))["value"] == "web 2018"
    await until(lambda: ("joined", "jsch") in seen)

    page.do("channel_send", msg="hello hall")
    await until(lambda: ("msg", "jsch", "hello hall") in seen)
    await channel.message_channel_send("hi browser")
    await until(lambda: any(e["msg"] == "hi browser" for e in page.of("channel_msg")))

    page.do("set_attr", name="mood", value="retro")
    await until(lambda: ("attr", "mood", "retro", "update") in seen)
    page.do("invoke", func="io.agora.signal.channel_query_num", args={"name": "hall"})
    assert (await page.wait("invoke_result"))["val"]["num"] == 2

    await channel.channel_leave()
    assert (await page.wait("user_left"))["account"] == "bob"


async def test_js_calls_with_a_native_user(login, browser) -> None:
    bob = await login("bob")
    incoming: list[Call] = []
    log: list[tuple[str, str]] = []

    def ring(call: Call) -> None:
        incoming.append(call)
        call.on_invite_msg = lambda extra: log.append(("msg", extra))
        call.on_invite_end_by_peer = lambda extra: log.append(("end", extra))

    bob.on_invite_received = ring
    page = await browser()
    page.do("login", app=APP, account="jscall", token=NO_TOKEN)
    await page.wait("login_ok")

    page.do("invite", name="room5", peer="bob", extra=json.dumps({"_require_peer_online": 1}))
    await until(lambda: incoming)
    await page.wait("call_received_by_peer")
    await incoming[0].channel_invite_accept("yes")
    assert (await page.wait("call_accepted"))["extra"] == "yes"
    await incoming[0].channel_invite_dtmf("5#")
    dtmf = json.loads((await page.wait("call_msg"))["extra"])
    assert dtmf == {"msgtype": "dtmf", "msgdata": "5#"}
    page.do("dtmf", digits="0*")
    await until(lambda: ("msg", '{"type":"dtmf","dtmf":"0*"}') in log)
    page.do("end", extra="done")
    await until(lambda: ("end", "done") in log)

    refused: list[str] = []
    call = await bob.channel_invite_user2("room6", "jscall", "")
    call.on_invite_refused_by_peer = refused.append
    invite = await page.wait("invite_received")
    assert (invite["channel"], invite["peer"]) == ("room6", "bob")
    page.do("refuse", extra="busy")
    await until(lambda: refused == ["busy"])


async def test_js_reconnects_after_a_network_drop(server, login, browser) -> None:
    """1.4.0 logs in afresh after a drop; what it had is not shown again (msg-v3 ids)."""
    bob = await login("bob")
    page = await browser()
    page.do("login", app=APP, account="jsdrop", token=NO_TOKEN)
    await page.wait("login_ok")
    await bob.message_instant_send("jsdrop", "before")
    await page.wait("msg")
    first = server.hub.sessions[(APP, "jsdrop")]

    page.do("drop")
    await until(lambda: server.hub.sessions.get((APP, "jsdrop")) is not first)
    await bob.message_instant_send("jsdrop", "after")
    await page.wait("msg", 2)
    assert [e["msg"] for e in page.of("msg")] == ["before", "after"]
    assert not page.of("logout")
