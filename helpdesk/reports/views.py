"""Views of the reports area (thin: they call domain functions)."""

from helpdesk.reports import bp  # noqa: F401
