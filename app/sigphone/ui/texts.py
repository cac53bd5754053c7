"""Human sentences for the SDK's seed codes: users read these, not numbers.

Kept in one table so the login window, the banner and the call view say the same thing for
the same code.
"""

from __future__ import annotations

__all__ = ["call_end_text", "code_text", "login_failure_text", "logout_text"]

_LOGIN = {
    200: "Could not log in for an unknown reason. Try again.",
    201: "Cannot reach the server. Check the server address and your network.",
    202: "The server does not know this app ID.",
    203: "Login was cancelled.",
    204: "Your token has expired. Get a new token and log in again.",
    205: "This softphone is too old for the server.",
    206: "The token is wrong for this account and app ID.",
    207: "This token was revoked.",
    208: "You are already logged in.",
    1004: "The account name is not valid (1-128 visible characters, no spaces).",
    1005: "The account name is too long.",
}

_LOGOUT = {
    100: "You were logged out.",
    101: "You logged out.",
    102: "The connection to the server was lost and could not be restored.",
    103: "You were logged out because this account logged in on another device.",
    104: "The server sent something this softphone did not understand.",
    105: "Your token expired, so the server logged you out.",
    106: "This softphone is too old for the server.",
    107: "The token was rejected, so the server logged you out.",
}

_CALL = {
    700: "The call failed.",
    701: "You are already calling this person.",
    702: "The call was lost because of a network problem.",
    703: "The person you called is offline.",
    704: "No answer: the other phone did not respond.",
    1003: "You are not logged in.",
    1004: "That is not a valid account to call.",
    1005: "The request was too large.",
}

_GENERAL = {
    400: "The message could not be delivered.",
    401: "The message timed out; the server did not confirm it.",
    1000: "Something went wrong.",
    1001: "The request failed.",
    1002: "Something unexpected went wrong.",
    1003: "You are not logged in.",
    1004: "The server refused a wrong parameter.",
    1005: "That is too long for the server.",
}


def login_failure_text(code: int) -> str:
    """The sentence for an ``on_login_failed`` code (any unknown code still reads well)."""
    return _LOGIN.get(code) or code_text(code)


def logout_text(code: int) -> str:
    """The sentence for an ``on_logout`` code."""
    return _LOGOUT.get(code) or code_text(code)


def call_end_text(code: int) -> str:
    """The sentence for a call failure code (``on_invite_failed``'s ``ecode``)."""
    return _CALL.get(code) or code_text(code)


def code_text(code: int) -> str:
    """Any seed code; the number is kept at the end for support requests."""
    text = _GENERAL.get(code) or _LOGIN.get(code) or _LOGOUT.get(code) or _CALL.get(code)
    return f"{text or 'Something went wrong.'} (code {code})"
