"""The signaling server: a hub (state machine) behind edge adapters and a store."""

from .app import SignalServer
from .config import ServerConfig
from .hub import Hub, HubConfig

__all__ = ["Hub", "HubConfig", "ServerConfig", "SignalServer"]
