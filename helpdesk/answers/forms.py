"""Forms of the answers area."""
