"""Links handed over by the OS or a second launch."""

from __future__ import annotations

import pytest

from sigphone.phone.uri import dial_target


@pytest.mark.parametrize(
    ("uri", "target"),
    [
        ("tel:+1-555-0100", "+15550100"),
        ("TEL:123;phone-context=example.com", "123"),
        ("sigphone:bob", "bob"),
        ("sigphone://call/bob", "bob"),
        ("sigphone://alice%40home", "alice@home"),
        ("show", None),
        ("https://example.com", None),
        ("tel:", None),
    ],
)
def test_dial_target(uri: str, target: str | None) -> None:
    assert dial_target(uri) == target
