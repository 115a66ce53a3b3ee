"""Customer forms."""
