"""The signaling server: a hub (state machine) behind edge adapters and a store."""

from .app import SignalServer
from .channels import Channels, ChannelsConfig
from .config import ServerConfig
from .hub import Hub, HubConfig

__all__ = ["Channels", "ChannelsConfig", "Hub", "HubConfig", "ServerConfig", "SignalServer"]
