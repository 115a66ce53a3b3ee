"""Counting the calls of a function a test cares about (page-cost tests)."""

from __future__ import annotations


class CallCounter:
    """Wrap ``owner.name`` (through ``monkeypatch``, so it is undone) and count its calls."""

    def __init__(self, monkeypatch, owner, name: str):
        self.calls = 0
        original = getattr(owner, name)

        def counting(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)
