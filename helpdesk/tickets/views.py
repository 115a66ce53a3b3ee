"""Views of the tickets area (thin: they call domain functions)."""

from helpdesk.tickets import bp  # noqa: F401
