"""Loads the fixtures; they live in tests/fixtures/, plain helpers in tests/support/.

The database under test is chosen by ``PORTAL_TEST_DB``: ``sqlite`` (default) or
``postgresql`` (a fresh database per test session on the local server, dropped at
the end). Tests that need a service which is not reachable skip with a reason,
unless ``REQUIRE_SERVICES=1``, under which such a skip is a failure.
"""

pytest_plugins = [
    "tests.fixtures.speed",
    "tests.fixtures.alone",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.staff",
    "tests.fixtures.people",
    "tests.fixtures.services",
    "tests.fixtures.reports",
    "tests.fixtures.answers",
]
