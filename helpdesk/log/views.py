"""Views of the log area (thin: they call domain functions)."""

from helpdesk.log import bp  # noqa: F401
