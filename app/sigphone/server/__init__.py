"""The signaling server: a hub (state machine) behind edge adapters and a store."""

from sigphone.server.app import SignalServer
from sigphone.server.config import ServerConfig
from sigphone.server.core.hub import Hub, HubConfig
from sigphone.server.services.channels import Channels, ChannelsConfig

__all__ = ["Channels", "ChannelsConfig", "Hub", "HubConfig", "ServerConfig", "SignalServer"]
