"""Sigphone: a desktop softphone and the signaling system it talks to."""

__version__ = "0.1.0"
