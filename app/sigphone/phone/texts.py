"""Human sentences for the SDK's seed codes: users read these, not numbers.

Each sentence says what happened and what to do about it. Kept in one table so the login
window, the banner, the call view and the chat say the same thing for the same code; the
code itself is added only where support needs it ("(code 1001)").
"""

from __future__ import annotations

__all__ = [
    "call_end_text",
    "code_text",
    "login_failure_text",
    "logout_text",
    "message_failure_text",
]

_LOGIN = {
    200: "Could not log in for an unknown reason. Try again in a moment.",
    201: "Cannot reach the server. Check the server address and your network, then try again.",
    202: "The server does not know this app ID. Check the app ID with your administrator.",
    203: "Login cancelled.",
    204: "Your token has expired. Get a new token and log in again.",
    205: "This softphone is too old for the server. Install the latest version.",
    206: "The token does not match this account and app ID. Check both, or get a new token.",
    207: "This token was revoked. Ask your administrator for a new one.",
    208: "You are already logged in.",
    1004: "That account name is not valid: use 1-128 characters without spaces.",
    1005: "That account name is too long: use at most 128 characters.",
}

_LOGOUT = {
    100: "You were logged out. Log in again to continue.",
    101: "You logged out.",
    102: "The connection to the server was lost and could not be restored. Check your "
    "network and log in again.",
    103: "You were logged out because this account logged in on another device.",
    104: "The server sent something this softphone did not understand. Install the latest "
    "version and log in again.",
    105: "Your token expired, so the server logged you out. Get a new token and log in again.",
    106: "This softphone is too old for the server. Install the latest version.",
    107: "The server rejected your token and logged you out. Get a new token.",
}

_CALL = {
    700: "The call failed. Try again in a moment.",
    701: "You are already calling this person.",
    702: "The call was lost because of a network problem. Call again.",
    703: "The person you called is offline. Try later, or send a message.",
    704: "No answer: the other phone did not respond. Try again later.",
    705: "The other phone cannot take calls right now.",
    1003: "You are not logged in. Log in, then call again.",
    1004: "That is not an account or a phone number. Check what you typed.",
    1005: "The call's details were too large to send.",
}

_MESSAGE = {
    400: "The message could not be delivered. Try sending it again.",
    401: "The server did not confirm the message in time. Check your connection and send it again.",
    1003: "You are not logged in. Log in and send it again.",
    1004: "That is not an account name. Check the name (no spaces).",
    1005: "The message is too long: split it into shorter ones.",
}

_GENERAL = {
    1000: "Something went wrong. Try again.",
    1001: "The server could not do that right now. Try again in a moment.",
    1002: "Something unexpected went wrong. Try again.",
    1003: "You are not logged in. Log in and try again.",
    1004: "The server did not accept what was typed. Check names for spaces or odd characters.",
    1005: "That is too long for the server. Make it shorter.",
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


def message_failure_text(code: int) -> str:
    """The sentence for a failed point-to-point message."""
    return _MESSAGE.get(code) or code_text(code)


def code_text(code: int) -> str:
    """Any seed code; unknown codes keep their number for support requests."""
    text = _GENERAL.get(code) or _LOGIN.get(code) or _LOGOUT.get(code) or _CALL.get(code)
    return text or f"Something went wrong (code {code}). Try again."
