"""Forms of the staff area."""
