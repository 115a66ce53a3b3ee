"""Forms of the people area."""
