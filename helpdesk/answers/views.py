"""Views of the answers area (thin: they call domain functions)."""

from helpdesk.answers import bp  # noqa: F401
