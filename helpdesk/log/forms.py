"""Forms of the log area."""
