"""Staff password hashing: production argon2 parameters come from the settings."""

from __future__ import annotations

from argon2 import PasswordHasher

from portal.config import Config, TestConfig
from portal.security.passwords import hash_password, needs_rehash, verify_password

PRODUCTION = {name: getattr(Config, name) for name in
              ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")}


def test_production_parameters_are_argon2_cffis_defaults():
    library = PasswordHasher()
    expected = {"ARGON2_TIME_COST": library.time_cost, "ARGON2_MEMORY_COST": library.memory_cost,
                "ARGON2_PARALLELISM": library.parallelism}
    assert expected == PRODUCTION
    assert TestConfig.ARGON2_MEMORY_COST < Config.ARGON2_MEMORY_COST


def test_hashes_use_the_configured_parameters_and_weaker_ones_need_a_rehash(app, make_app):
    cheap = hash_password("correct horse battery staple")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(cheap, "correct horse battery staple")
    assert not verify_password(None, "correct horse battery staple")
    production = make_app(**PRODUCTION)
    with production.app_context():  # two hashes at the production cost: its dummy and this one
        strong = hash_password("correct horse battery staple")
        assert strong.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert needs_rehash(cheap) and not needs_rehash(strong)


def test_one_policy_for_the_setup_link_and_the_command_line(app, db, runner, monkeypatch):
    """The set-up link and ``flask users create`` refuse the same passwords with the same words."""
    import pytest

    from portal.security.passwords import password_problem
    from portal.security.staff_accounts import StaffError, redeem

    for bad in ("short", " padded password ", "eleven char"):
        problem = password_problem(bad)
        assert problem and problem.endswith(".")
        with pytest.raises(StaffError) as refused:
            redeem("no-such-token", bad)
        assert refused.value.message == problem and refused.value.field == "password"
        monkeypatch.setenv("PORTAL_PASSWORD", bad)
        result = runner.invoke(args=["users", "create", "--email", "x@example.com",
                                     "--name", "X", "--role", "agent"])
        assert result.exit_code != 0 and problem in result.output
    assert password_problem("twelve chars") is None
