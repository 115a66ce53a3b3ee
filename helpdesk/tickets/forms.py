"""Forms of the tickets area."""
