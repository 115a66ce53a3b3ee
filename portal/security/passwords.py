"""Staff password hashing (argon2id) and the minimum password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext

MIN_LENGTH = 12


def _hasher() -> tuple[PasswordHasher, str]:
    """This application's hasher (``ARGON2_*`` settings) and its dummy hash."""
    state = current_app.extensions.get("passwords")
    if state is None:
        config = current_app.config
        hasher = PasswordHasher(time_cost=config["ARGON2_TIME_COST"],
                                memory_cost=config["ARGON2_MEMORY_COST"],
                                parallelism=config["ARGON2_PARALLELISM"])
        # Verified against when no account matches, so unknown e-mails take as long as known ones.
        dummy = hasher.hash("not-a-real-password-used-for-timing-only")
        state = current_app.extensions.setdefault("passwords", (hasher, dummy))
    return state


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and fail."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a hash was made with weaker parameters than today's."""
    return _hasher()[0].check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new staff password is unacceptable, as a sentence to show, or ``None``.

    The one policy for every way a password is set (the setup link, ``flask users``).
    """
    if len(password) < MIN_LENGTH:
        return gettext("Choose a password of at least %(num)d characters.", num=MIN_LENGTH)
    if password.strip() != password:
        return gettext("A password must not start or end with spaces.")
    return None
