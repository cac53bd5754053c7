"""Server-side routing of numbers to the app's gateway (docs/sip-gateway.md, "Routing")."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sigphone.protocol.errors import ErrorCode
from sigphone.protocol.token import make_token
from sigphone.server.config import ServerConfig
from sigphone.server.services.calls import CallConfig

from ..support.config import APP, CERT, CERT_APP, fast_signal
from ..support.waiting import until
from .conftest import GATEWAY


def test_the_number_pattern_and_the_gateway_account():
    cfg = CallConfig(gateways={"app": ["sipgw"]})
    assert cfg.gateways_for("app", "+4930123456") == ["sipgw"]
    assert cfg.gateways_for("app", "004930123") == ["sipgw"]
    assert cfg.gateways_for("app", "bob") == []
    assert cfg.gateways_for("app", "12") == []  # too short to be a number
    assert cfg.gateways_for("other-app", "+4930123") == []  # no gateway there
    other = CallConfig(gateways={"app": ["gw"]}, number_pattern=r"9\d+")
    assert other.gateways_for("app", "+49") == []


def test_server_config_marks_the_gateway(tmp_path: Path):
    path = tmp_path / "server.toml"
    path.write_text(
        '[[apps]]\nid = "demo"\ngateway = "sipgw"\n\n'
        '[[apps]]\nid = "big"\ngateway = ["gw1", "gw2"]\n\n'
        '[calls]\nnumber_pattern = "0[0-9]+"\n'
    )
    cfg = ServerConfig.from_toml(path)
    assert cfg.calls.gateways == {"demo": ["sipgw"], "big": ["gw1", "gw2"]}
    assert cfg.calls.gateways_for("demo", "0301234") == ["sipgw"]
    assert cfg.calls.gateways_for("demo", "+49301234") == []


async def test_calls_spread_over_several_gateways(server, login):
    """An app may run several gateway processes (each carries a few calls): a call goes to
    the online one with the fewest calls."""
    server.calls.config.gateways[APP] = ["gw1", "gw2"]
    got: dict[str, list] = {"gw1": [], "gw2": []}
    for name in got:
        session = await login(name)
        session.on_invite_received = got[name].append
    alice, carol = await login("alice"), await login("carol")
    await alice.channel_invite_user2("room", "+4930123", "")
    await until(lambda: len(got["gw1"]) + len(got["gw2"]) == 1, 10)
    await carol.channel_invite_user2("room", "+4930124", "")
    await until(lambda: len(got["gw1"]) == 1 and len(got["gw2"]) == 1, 10)
    for calls in got.values():
        await calls[0].channel_invite_end()
    await until(lambda: server.calls.live == 0, 10)


async def test_a_number_fails_at_once_while_the_gateway_is_away(server, login):
    """``_require_peer_online`` does not apply to numbers: no waiting for a user "+49..." to
    log in; with no gateway session the call fails 703 at once."""
    alice = await login("alice")
    call = await alice.channel_invite_user2("room", "+4930123", '{"_require_peer_online":0}')
    failed: list[str] = []
    call.on_invite_failed = failed.append
    await until(lambda: bool(failed), 10)
    assert json.loads(failed[0])["ecode"] == ErrorCode.INVITE_E_PEEROFFLINE
    assert server.calls.live == 0


async def test_the_gateway_session_gets_the_number(server, login):
    """Seen from a plain SDK session logged in as the gateway account: the invite arrives
    from the caller, and the server's event names the number dialled."""
    gw = await login(GATEWAY)
    seen: list[dict] = []
    server.calls.listeners.append(lambda app, event: seen.append(event))
    got: list = []
    gw.on_invite_received = got.append
    alice = await login("alice")
    await alice.channel_invite_user2("room", "+4930123", '{"srcNum":"+4940111"}')
    await until(lambda: bool(got), 10)
    assert got[0].peer == "alice" and json.loads(got[0].extra)["srcNum"] == "+4940111"
    assert any(e["callee"] == "+4930123" and e["event"] == "incoming" for e in seen)
    await got[0].channel_invite_end()
    await until(lambda: server.calls.live == 0, 10)


async def test_the_gateway_logs_in_again_when_its_token_expires(server, gateway, login):
    """A long-running gateway outlives its tokens: the server ends the session (105) and the
    gateway signs a new token and is back, taking calls to numbers again."""
    gw = await gateway(app=CERT_APP, certificate=CERT, token_ttl=2.0, trunk=None)
    first = gw.session
    await until(lambda: gw.logins >= 2 and gw.session is not first, 30)
    await until(lambda: (CERT_APP, GATEWAY) in server.hub.sessions, 10)
    alice = await fast_signal(server.url, CERT_APP).login(
        "alice", make_token("alice", CERT_APP, CERT, int(time.time()) + 600)
    )
    call = await alice.channel_invite_user2("room", "+4930123", "")
    failed: list[str] = []
    call.on_invite_failed = failed.append
    await until(lambda: bool(failed), 10)
    # It reached the gateway (no trunk configured: 703 with the gateway's SIP reason).
    assert json.loads(failed[0]) == {
        "ecode": 703,
        "sip": 404,
        "reason": "no SIP trunk for this number",
    }
    await alice.logout()
