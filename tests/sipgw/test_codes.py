"""The SIP <-> seed code tables (docs/sip-gateway.md); the sipp tests run them end to end."""

from __future__ import annotations

from sigphone.protocol.errors import ErrorCode
from sigphone.sipgw.codes import inbound_status, outbound_outcome
from sigphone.sipgw.pjsip_stack import uri_user


def test_outbound_outcomes():
    assert outbound_outcome(486).what == "refused_by_peer"
    assert outbound_outcome(603).ecode is None
    assert outbound_outcome(404).ecode == ErrorCode.INVITE_E_PEEROFFLINE
    assert outbound_outcome(480).ecode == ErrorCode.INVITE_E_PEEROFFLINE
    assert outbound_outcome(408).ecode == ErrorCode.INVITE_E_TIMEOUT
    assert outbound_outcome(503).ecode == ErrorCode.INVITE_E_NET
    assert outbound_outcome(488).ecode == ErrorCode.INVITE_E_OTHER
    # Our own no-answer CANCEL: a timeout whatever the far end said.
    assert outbound_outcome(487, timed_out=True).ecode == ErrorCode.INVITE_E_TIMEOUT


def test_inbound_statuses():
    assert inbound_status(ErrorCode.INVITE_E_PEEROFFLINE) == 480
    assert inbound_status(ErrorCode.INVITE_E_REINVITE) == 486
    assert inbound_status(None) == 500
    assert inbound_status(99999) == 500


def test_user_part_of_uris_pjsip_printed():
    assert uri_user('"+4940111" <sip:+4940111@127.0.0.1>;tag=x') == "+4940111"
    assert uri_user("sip:bob@example.org:5060;transport=tcp") == "bob"
    assert uri_user("<sips:alice@h>") == "alice"
    assert uri_user("tel:+4930123") == "+4930123"
    assert uri_user("sip:example.org") == ""  # no user part
    assert uri_user("garbage") == ""
