"""Views of the staff area (thin: they call domain functions)."""

from helpdesk.staff import bp  # noqa: F401
