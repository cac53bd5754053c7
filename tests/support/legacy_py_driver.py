"""Drive the vendor's unmodified Python client (``agorasigsdk`` 1.0.2) from a test.

Runs in its own process (the client is built on a twisted reactor and blocks in
``requests``). Commands arrive as JSON lines on stdin; every callback the client raises is
printed as one JSON line on stdout. The client is pointed at our server only the way a
proxy would: the test sets ``HTTP_PROXY``, so its ``GET http://lbs.sig.agora.io/getaddr``
reaches our server, whose answer names the WebSocket address. Nothing here patches the
client.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from agorasigsdk import AgoraSignal, Call, Channel, LoginSession
from twisted.internet import reactor, stdio
from twisted.protocols.basic import LineReceiver


def emit(ev: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"ev": ev, **fields}) + "\n")
    sys.stdout.flush()


class LoginCb(LoginSession.LoginCallback):
    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def on_login_success(self, session: Any, uid: int) -> None:
        emit("login_ok", uid=uid)

    def on_logout(self, session: Any, err_code: int) -> None:
        emit("logout", code=err_code)

    def on_msg_instant_received(self, session: Any, account: str, uid: int, msg: str) -> None:
        emit("msg", account=account, msg=msg)

    def on_invite_received(self, session: Any, call: Any) -> None:
        self.driver.call = call
        call.set_callback(CallCb())
        emit("invite_received", channel=call.channel, peer=call.peer, extra=call.extra)


class MsgCb(LoginSession.MessageCallback):
    def on_msg_send_success(self, session: Any) -> None:
        emit("send_ok")

    def on_msg_send_error(self, session: Any, err_code: int) -> None:
        emit("send_error", code=err_code)


class ChannelCb(Channel.ChannelCallback):
    def on_channel_joined(self, login_session: Any, channel: Any) -> None:
        emit("joined", channel=channel.channel_name)

    def on_channel_join_failed(self, login_session: Any, channel: Any, err_code: int) -> None:
        emit("join_failed", code=err_code)

    def on_channel_left(self, login_session: Any, channel: Any, err_code: int) -> None:
        emit("left", code=err_code)

    def on_channel_user_joined(self, login_session: Any, channel: Any, account: str, uid: int):
        emit("user_joined", account=account)

    def on_channel_user_left(self, login_session: Any, channel: Any, account: str, uid: int):
        emit("user_left", account=account)

    def on_channel_user_list(self, login_session: Any, channel: Any, users: list, uids: list):
        emit("user_list", users=users)

    def on_channel_attr_updated(self, login_session, channel, name, value, ch_type) -> None:
        emit("attr", name=name, value=value, type=ch_type)

    def on_msg_channel_received(self, login_session, channel, account, uid, msg) -> None:
        emit("channel_msg", account=account, msg=msg)


class CallCb(Call.CallCallback):
    def on_invite_received_by_peer(self, login_session: Any, call: Any) -> None:
        emit("call_received_by_peer")

    def on_invite_accepted_by_peer(self, login_session: Any, call: Any, extra: str) -> None:
        emit("call_accepted", extra=extra)

    def on_invite_refused_by_peer(self, login_session: Any, call: Any, extra: str) -> None:
        emit("call_refused", extra=extra)

    def on_invite_failed(self, session: Any, call: Any, err_code: int) -> None:
        emit("call_failed", code=err_code)

    def on_invite_end_by_peer(self, session: Any, call: Any, extra: str) -> None:
        emit("call_end_by_peer", extra=extra)

    def on_invite_end_by_myself(self, session: Any, call: Any, extra: str) -> None:
        emit("call_end_by_myself")

    def on_invite_msg(self, session: Any, call: Any, extra: str) -> None:
        emit("call_msg", extra=extra)


class Driver(LineReceiver):
    delimiter = b"\n"

    def __init__(self) -> None:
        self.session: Any = None
        self.channel: Any = None
        self.call: Any = None

    def connectionMade(self) -> None:
        emit("ready")

    def lineReceived(self, line: bytes) -> None:
        cmd = json.loads(line)
        try:
            getattr(self, "do_" + cmd.pop("op"))(**cmd)
        except Exception as exc:
            emit("driver_error", error=repr(exc))

    def do_login(self, app: str, account: str, token: str) -> None:
        self.session = AgoraSignal(app).login(account, token, LoginCb(self))

    def do_send(self, peer: str, msg: str) -> None:
        self.session.msg_instant_send(peer, msg, MsgCb())

    def do_join(self, channel: str) -> None:
        self.channel = self.session.channel_join(channel, ChannelCb())

    def do_channel_send(self, msg: str) -> None:
        self.channel.msg_channel_send(msg, (lambda err, data: emit("channel_sent", err=err), []))

    def do_set_attr(self, name: str, value: str) -> None:
        self.channel.channel_set_attr(name, value)

    def do_leave(self) -> None:
        self.channel.channel_leave()

    def do_query(self, account: str) -> None:
        self.session.query_user_status(account, lambda err, status: emit("status", s=status))

    def do_invite(self, channel: str, peer: str, extra: str) -> None:
        self.call = self.session.channel_invite_user_2(channel, peer, extra, CallCb())

    def do_accept(self) -> None:
        self.call.accept()

    def do_dtmf(self, digits: str) -> None:
        # The 1.0.2 client has no DTMF method; its public call2 sends what the JS SDK's
        # channelInviteDTMF sends.
        extra = json.dumps({"msgtype": "dtmf", "msgdata": digits})
        args = {
            "line": self.session.line,
            "channelName": self.call.channel,
            "peer": self.call.peer,
            "extra": extra,
        }
        self.session.call2("voip_invite_msg", args, (lambda err, data: emit("dtmf_sent"), []))

    def do_end(self) -> None:
        self.call.end()

    def do_logout(self) -> None:
        self.session.logout()

    def do_quit(self) -> None:
        reactor.stop()

    def connectionLost(self, reason: Any = None) -> None:
        if reactor.running:
            reactor.stop()


if __name__ == "__main__":
    stdio.StandardIO(Driver())
    reactor.run()
