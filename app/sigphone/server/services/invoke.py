"""``invoke(func, args)``: the Web API's ``io.agora.signal.*`` remote calls (C10).

Each function is a thin adapter: user functions go through the hub's own request handlers
and channel functions through the channel service, so every rule and limit is the one the
ordinary requests apply. Argument and result shapes follow the Web API seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sigphone.protocol import frames as f
from sigphone.protocol.channels import INVOKE_PREFIX, Invoke
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_USERLIST_ALL
from sigphone.protocol.names import check_name
from sigphone.server.core.hub import Hub, ReplyData, chain, then
from sigphone.server.core.session import ServerSession

if TYPE_CHECKING:
    from sigphone.server.services.channels import Channels

__all__ = ["Invoker"]

Args = dict[str, Any]
Result = ReplyData | asyncio.Future[ReplyData]

#: channel_query_userlist_all's default ``num`` (Web API: 1000*1000).
USERLIST_ALL_DEFAULT = 1000 * 1000


class Invoker:
    """Registers the Invoke request; the reply data is ``{"resp": <the seed's result>}``."""

    def __init__(self, hub: Hub, channels: Channels) -> None:
        self.hub = hub
        self.channels = channels
        self.functions: dict[str, Callable[[ServerSession, Args], Result]] = {
            "user_query_user_status": self._user_query_user_status,
            "user_set_attr": self._user_set_attr,
            "user_get_attr": self._user_get_attr,
            "user_get_attr_all": self._user_get_attr_all,
            "channel_query_num": self._channel_query_num,
            "channel_query_user_isin": self._channel_query_user_isin,
            "channel_query_userlist": self._channel_query_userlist,
            "channel_query_userlist_all": self._channel_query_userlist_all,
            "channel_clear_attr": self._channel_clear_attr,
            "channel_del_attr": self._channel_del_attr,
            "channel_set_attr": self._channel_set_attr,
        }
        hub.register(Invoke, self._on_invoke)

    def _on_invoke(self, session: ServerSession, frame: Invoke) -> Result:
        func = frame.func
        fn = (
            self.functions.get(func[len(INVOKE_PREFIX) :])
            if func.startswith(INVOKE_PREFIX)
            else None
        )
        if fn is None:
            raise SignalError(
                ErrorCode.GENERAL_E_WRONG_PARAM,
                f"unknown function {func[:80]!r}: expected {INVOKE_PREFIX}<name> of the Web API",
            )
        result = fn(session, frame.args)
        if isinstance(result, asyncio.Future):
            return chain(result, lambda resp: {"resp": resp})
        return {"resp": result}

    # --- Users: through the hub's own handlers ----------------------------------------

    def _user_query_user_status(self, session: ServerSession, args: Args) -> Result:
        return self.hub.handle(session, f.QueryStatus(account=_arg(args, "account")))

    def _user_set_attr(self, session: ServerSession, args: Args) -> Result:
        frame = f.SetAttr(name=_arg(args, "name"), value=_arg(args, "value"))
        return self.hub.handle(session, frame)

    def _user_get_attr(self, session: ServerSession, args: Args) -> Result:
        frame = f.GetAttr(name=_arg(args, "name"), account=args.get("account"))
        return self.hub.handle(session, frame)

    def _user_get_attr_all(self, session: ServerSession, args: Args) -> Result:
        return self.hub.handle(session, f.GetAttrAll(account=args.get("account")))

    # --- Channels ---------------------------------------------------------------------

    def _channel_query_num(self, session: ServerSession, args: Args) -> Result:
        name = check_name(args.get("name"), "channel")
        return then(self.channels.member_count(session.app, name), lambda n: {"num": n})

    def _channel_query_user_isin(self, session: ServerSession, args: Args) -> Result:
        name = check_name(args.get("name"), "channel")
        account = check_name(args.get("account"), "account")
        isin = self.channels.is_member(session.app, name, account)
        return then(isin, lambda yes: {"isin": int(yes)})

    def _userlist(self, session: ServerSession, name: str, limit: int) -> Result:
        return then(
            self.channels.user_list(session.app, name, limit),
            lambda r: {"num": r[0], "list": [[account, 0] for account in r[1]]},
        )

    def _channel_query_userlist(self, session: ServerSession, args: Args) -> Result:
        name = check_name(args.get("name"), "channel")
        return self._userlist(session, name, self.channels.config.user_list_max)

    def _channel_query_userlist_all(self, session: ServerSession, args: Args) -> Result:
        name = check_name(args.get("name"), "channel")
        num = args.get("num", USERLIST_ALL_DEFAULT)
        if not isinstance(num, int) or isinstance(num, bool) or num < 0:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "num must be a whole number >= 0")
        return self._userlist(session, name, min(num, MAX_USERLIST_ALL))

    def _channel_clear_attr(self, session: ServerSession, args: Args) -> Result:
        channel = args.get("channel")
        done = self.channels.clear_attrs_by_name(session.app, channel)  # type: ignore[arg-type]
        return then(done, lambda _: {})

    def _channel_del_attr(self, session: ServerSession, args: Args) -> Result:
        channel, name = args.get("channel"), args.get("name")
        done = self.channels.del_attr_by_name(session.app, channel, name)  # type: ignore[arg-type]
        return then(done, lambda _: {})

    def _channel_set_attr(self, session: ServerSession, args: Args) -> Result:
        channel, name, value = args.get("channel"), args.get("name"), args.get("value")
        done = self.channels.set_attr_by_name(
            session.app,
            channel,  # type: ignore[arg-type]
            name,  # type: ignore[arg-type]
            value,  # type: ignore[arg-type]
            creator=session.account,
        )
        return then(done, lambda _: {})


def _arg(args: Args, key: str) -> Any:
    """An argument as the client sent it (None when absent): the hub's handlers validate it
    like the same field of an ordinary request (1004 when missing or not text)."""
    return args.get(key)
