"""server tests."""
