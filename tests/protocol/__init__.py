"""protocol tests."""
