"""The legacy codec and front-door helpers without sockets (sans-I/O)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigphone.protocol import legacy as w
from sigphone.protocol.calls import dtmf_payload
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.edges.legacy import getaddr_body, getaddr_vid, is_legacy_frame
from sigphone.server.edges.legacy.events import legacy_extra


def test_frames_decode_from_text_and_bytes() -> None:
    assert w.decode('["ping", 3]') == ("ping", 3)
    assert w.decode(b'["set_flag"]') == ("set_flag", None)
    for bad in ("{}", "[]", "[1]", "nope", b"\xff"):
        with pytest.raises(SignalError) as err:
            w.decode(bad)
        assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM


def test_call2_replies_carry_valid_json_either_way() -> None:
    ok = json.loads(w.call2_ok(4, {"status": 1}))
    assert ok[0] == "call2-ret"
    assert ok[1][:2] == [4, ""]
    assert json.loads(ok[1][2]) == {"result": "ok", "status": 1}
    failed = json.loads(w.call2_error(5, SignalError(1004, "bad")))[1]
    assert failed[:2] == [5, "1004"]
    assert json.loads(failed[2]) == {"result": "failed", "code": 1004, "reason": "bad"}


@pytest.mark.parametrize(
    ("code", "err"),
    [
        (ErrorCode.LOGIN_E_TOKENEXPIRED, "TokenErrorExpired"),
        (ErrorCode.LOGIN_E_TOKENWRONG, "TokenErrorWrong"),
        (ErrorCode.LOGIN_E_FAILED, "202 nope"),
    ],
)
def test_login_errors_use_the_names_the_clients_map(code: ErrorCode, err: str) -> None:
    frame = json.loads(w.login_error(SignalError(code, "nope")))
    assert frame[0] == "login_ret"
    assert frame[1][0] == err


@given(st.text(min_size=0, max_size=50))
def test_lines_split_as_both_clients_split_them(content: str) -> None:
    v2 = w.msg_line("alice", "bob", "instant", 1.5, content)
    assert v2.split(" ", 6) == ["msg-v2", "alice", "bob", "v1", "instant", "1", content]
    v3 = w.msg_line("alice", "bob", "instant", 1.5, content, msgid="inbox.7")
    assert v3.split(" ", 7)[1:3] == ["inbox.7", "alice"]
    assert v3.split(" ", 7)[7] == content


def test_dtmf_in_the_form_the_old_clients_send() -> None:
    assert json.loads(legacy_extra(dtmf_payload("12#"))) == {"msgtype": "dtmf", "msgdata": "12#"}
    assert legacy_extra('{"type":"dtmfx"}') == '{"type":"dtmfx"}'
    assert legacy_extra("free text") == "free text"


def test_front_door() -> None:
    assert is_legacy_frame(b' [ "login", {}]')
    assert not is_legacy_frame(b'{"op": "login"}')
    assert not is_legacy_frame(b"[1, 2]")
    assert getaddr_vid("/getaddr?vid=abc") == "abc"
    assert getaddr_vid("http://lbs.sig.agora.io/getaddr?vid=abc") == "abc"
    assert getaddr_vid("/healthz") is None
    assert getaddr_body("::ffff:10.0.0.2", 9000)["web"] == [["10.0.0.2", 9000]]
    assert getaddr_body("::1", 9000)["web"] == [["127.0.0.1", 9000]]
