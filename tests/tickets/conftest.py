"""The tickets area's shared fixture: a signed-in agent (``test_queue`` names its own)."""

from __future__ import annotations

import pytest


@pytest.fixture
def agent(make_staff, login):
    user = make_staff("agent", name="Alex Agent")
    login(user)
    return user
