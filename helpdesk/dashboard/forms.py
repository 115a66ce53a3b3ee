"""Forms of the staff landing page (none yet)."""
