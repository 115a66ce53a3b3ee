"""Views of the campaigns area (thin: they call domain functions)."""

from helpdesk.campaigns import bp  # noqa: F401
