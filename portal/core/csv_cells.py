"""Spreadsheet-safe CSV cells: the one place every CSV the product writes neutralises formulas."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_row(values) -> list[str]:
    """Every cell of a row made safe with :func:`safe_cell`."""
    return [safe_cell(value) for value in values]
