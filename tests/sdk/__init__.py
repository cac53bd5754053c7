"""sdk tests."""
