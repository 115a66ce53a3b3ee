"""Encrypted columns, blind indexes, verification digests and notice codes.

Personal data is stored as Fernet tokens (AES-128-CBC + HMAC-SHA256) under a
``MultiFernet`` keyring: the first key of ``PORTAL_DATA_KEYS`` encrypts, every key
decrypts, and ``flask keys rotate`` re-encrypts old tokens with the first key.

Lookups on encrypted values go through *blind indexes*: HMAC-SHA256 under
``PORTAL_INDEX_KEY`` of a normalised value, with a purpose prefix so an index of
one field cannot be matched against another.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

from portal.security.hmac_sha256 import HmacSha256

EXTENSION_KEY = "portal.crypto"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_FIX = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


class Keyring:
    """The data keys and the index key of one application."""

    def __init__(self, data_keys: list[str], index_key: str):
        if not data_keys:
            raise ValueError("at least one data key is required")
        self._fernets = [Fernet(key) for key in data_keys]
        self._multi = MultiFernet(self._fernets)
        # Keyed once: each digest copies this state instead of hashing the key again.
        self._index_hmac = HmacSha256(index_key.encode())

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text with the newest data key."""
        return self._multi.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made with any configured key."""
        return self._multi.decrypt(token.encode("ascii")).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt a token with the newest key (unchanged plaintext)."""
        return self._multi.rotate(token.encode("ascii")).decode("ascii")

    def is_current(self, token: str) -> bool:
        """Tell whether a token decrypts with the newest key."""
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def index(self, purpose: str, normalised: str) -> str:
        """Keyed digest of an already-normalised value for one purpose."""
        return self._index_hmac.hexdigest(f"{purpose}\x1f{normalised}".encode())


def keyring() -> Keyring:
    """Return the current application's keyring."""
    return current_app.extensions[EXTENSION_KEY]


def keyring_or_current(ring: Keyring | None) -> Keyring:
    """``ring`` if given (bulk callers look it up once), else the app's keyring."""
    return ring if ring is not None else keyring()


def init_app(app) -> None:
    """Build the keyring from the application's settings."""
    app.extensions[EXTENSION_KEY] = Keyring(
        app.config["PORTAL_DATA_KEYS"], app.config["PORTAL_INDEX_KEY"]
    )


class EncryptedString(TypeDecorator):
    """Text encrypted at rest; reads and writes plain ``str`` in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("encrypted columns hold text")
        return keyring().encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return keyring().decrypt(value)


class BlindIndex(TypeDecorator):
    """A hex HMAC digest column (64 characters)."""

    impl = String(64)
    cache_ok = True


# --- normalisers -------------------------------------------------------------


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_email(value: str) -> str:
    """Lower-case, trimmed e-mail address."""
    return _fold(value).lower()


_NOT_TOKEN = re.compile(r"[^0-9A-Z]")
_NOT_NAME = re.compile(r"[^a-z0-9]")
_CODE_SEPARATORS = re.compile(r"[\s\-_.]")


def normalise_token(value: str) -> str:
    """Upper-case letters and digits only (policy numbers, postcodes)."""
    return _NOT_TOKEN.sub("", _fold(value).upper())


def normalise_name(value: str) -> str:
    """Case- and accent-insensitive name for matching."""
    # NFKD splits accents off as combining marks, which _NOT_NAME removes with the rest.
    return _NOT_NAME.sub("", unicodedata.normalize("NFKD", _fold(value).casefold()))


def normalise_code(value: str) -> str:
    """Canonical notice code: Crockford base32, no separators, common misreads fixed."""
    return _CODE_SEPARATORS.sub("", _fold(value).upper()).translate(_CROCKFORD_FIX)


def email_index(value: str, ring: Keyring | None = None) -> str:
    """Blind index of an e-mail address."""
    return keyring_or_current(ring).index("email", normalise_email(value))


def phone_index(e164: str, ring: Keyring | None = None) -> str:
    """Blind index of a phone number already in E.164 form."""
    return keyring_or_current(ring).index("phone", e164.strip())


def policy_index(value: str, ring: Keyring | None = None) -> str:
    """Blind index of a policy number."""
    return keyring_or_current(ring).index("policy", normalise_token(value))


def code_index(value: str, ring: Keyring | None = None) -> str:
    """Blind index of a notice or activation code."""
    return keyring_or_current(ring).index("code", normalise_code(value))


def verification_digest(purpose: str, value: str, ring: Keyring | None = None) -> str:
    """Keyed digest of a verification answer (postcode, DOB, last four)."""
    return keyring_or_current(ring).index(f"verify.{purpose}", normalise_token(value))


def digests_equal(left: str | None, right: str | None) -> bool:
    """Constant-time comparison of two digests; ``None`` never matches."""
    if left is None or right is None:
        return False
    return hmac.compare_digest(left.encode(), right.encode())


# --- codes ---------------------------------------------------------------------


def generate_code(groups: int = 3, group_size: int = 4) -> str:
    """A random Crockford base32 code such as ``7K2D-QX9M-4TRB`` (60 bits by default)."""
    # One draw of 5 bits per character: uniform over the alphabet, one urandom call.
    length = groups * group_size
    bits = secrets.randbits(5 * length)
    chars = [CROCKFORD[(bits >> (5 * i)) & 31] for i in range(length)]
    return "-".join(
        "".join(chars[i : i + group_size]) for i in range(0, len(chars), group_size)
    )


def format_code(value: str, group_size: int = 4) -> str:
    """Present a normalised code in dash-separated groups."""
    code = normalise_code(value)
    return "-".join(code[i : i + group_size] for i in range(0, len(code), group_size))


def is_valid_code(value: str, length: int = 12) -> bool:
    """Tell whether text is a well-formed code of the given length."""
    code = normalise_code(value)
    return len(code) == length and all(ch in CROCKFORD for ch in code)
