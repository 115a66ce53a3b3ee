"""Text compared the way people type it: without case and without accents."""

from __future__ import annotations

import unicodedata


def folded(text: str) -> str:
    """``text`` case-folded with its accents dropped: 'Crédito' ~ 'credito', 'Île' ~ 'ile'.

    For matching what someone typed (a search, a region's name), never for storing.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
