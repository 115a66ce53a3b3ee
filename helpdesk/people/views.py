"""Views of the people area (thin: they call domain functions)."""

from helpdesk.people import bp  # noqa: F401
