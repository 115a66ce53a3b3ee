"""The customer-facing site."""

from portal.customer.views import bp

__all__ = ["bp"]
