"""Name validation: ``is_visible``'s shortcut holds for every Unicode character."""

from __future__ import annotations

import sys

import pytest

from sigphone.protocol.errors import SignalError
from sigphone.protocol.names import check_name, is_visible


def test_is_visible_agrees_with_the_per_character_rule_for_all_of_unicode():
    """Printable and no white space, character by character, for every code point."""
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        want = ch.isprintable() and not ch.isspace()
        assert is_visible(ch) is want, hex(code)
        assert is_visible("a" + ch + "b") is want, hex(code)


@pytest.mark.parametrize("name", ["a b", "a\tb", "a\u00a0b", "a\u2028b", "a\u3000b", "a\x85b"])
def test_names_with_white_space_are_refused(name: str):
    with pytest.raises(SignalError):
        check_name(name)


def test_visible_names_pass_in_nfc():
    assert check_name("Zoë") == "Zoë"
    assert check_name("Zoe\u0308") == "Zo\u00eb"
