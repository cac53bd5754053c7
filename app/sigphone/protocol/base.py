"""The base classes and number types of every frame (the closed unions are in frames.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["Event", "Id", "Request", "Seq"]

Id = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class Request(msgspec.Struct, tag_field="op", omit_defaults=True, kw_only=True):
    """Base of every client request: ``id`` is echoed by the reply."""

    id: Id = 0


class Event(msgspec.Struct, tag_field="t", omit_defaults=True, kw_only=True, frozen=True):
    """Base of every server event kind. Frozen: fan-out pushes one object to many sessions
    and encodes it once (frames.encode_event_body)."""
