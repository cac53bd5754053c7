"""The softphone's logic without Qt (napari's ``components`` beside its ``_qt``).

``PhoneCore`` (core.py) owns one account's session and its controllers: ``Account``
(login, logout, reconnect, token fetch), ``CallController`` (one call in the foreground, a
``CallPhase`` enum, call waiting, do-not-disturb, media, history), ``ChatController``,
``ContactsController`` (presence) and ``RoomController`` (the channel room). Controllers
publish plain dataclass events on an ``EventBus``; ``sigphone.ui`` turns them into Qt
signals. Nothing here imports Qt (``tests/phone/test_layering.py``).
"""

from .calls import CallPhase
from .core import PhoneCore, PhoneOptions
from .events import EventBus

__all__ = ["CallPhase", "EventBus", "PhoneCore", "PhoneOptions"]
