"""Forms of the campaigns area."""
