"""Encrypted columns, blind indexes, verification digests and notice codes.

Personal data is stored as AES-256-GCM tokens (``cryptography``'s ``AESGCM``):
base64url of a version byte, the 4-byte id of the key, a random 96-bit nonce
and the ciphertext with its tag. The column a value belongs to
(``"person.email"``) is the associated data, so a token copied into another
column does not decrypt. The first key of ``PORTAL_DATA_KEYS`` encrypts, every
key decrypts, and ``flask keys rotate`` re-encrypts everything else with the
first key. Tokens written before AES-GCM (Fernet, which start ``gAAAA``) still
decrypt with the key that made them until they are rotated.

The keys keep the Fernet format (32 random bytes, url-safe base64), so existing
keys stay valid: each key's AES-256 key and key id are derived from its 32
bytes with HKDF-SHA256, never used directly, because the same bytes are still
the HMAC and AES-128 keys of the Fernet tokens made under it.

Lookups on encrypted values go through *blind indexes*: HMAC-SHA256 under
``PORTAL_INDEX_KEY`` of a normalised value, with a purpose prefix so an index of
one field cannot be matched against another.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

__all__ = ["InvalidToken"]  # raised for any token that does not decrypt

EXTENSION_KEY = "portal.crypto"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_FIX = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})

TOKEN_VERSION = 0x01  # AES-256-GCM; Fernet tokens start with 0x80
_FERNET_VERSION = 0x80
KEY_ID_SIZE = 4
NONCE_SIZE = 12  # 96 bits, drawn from os.urandom for every value
_HEADER = 1 + KEY_ID_SIZE
_BODY = _HEADER + NONCE_SIZE
_HKDF_INFO = b"portal data key v1: AES-256-GCM key and key id"
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # what base64.urlsafe_b64encode does


def generate_key() -> str:
    """A new data key: 32 random bytes, url-safe base64 (the Fernet key format)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


class DataKey:
    """One entry of ``PORTAL_DATA_KEYS``: its AES-GCM key and id, and its Fernet key."""

    __slots__ = ("aead", "fernet", "key_id")

    def __init__(self, key: str):
        self.fernet = Fernet(key)  # validates the format; reads the key's old tokens
        derived = HKDF(algorithm=SHA256(), length=32 + KEY_ID_SIZE, salt=None,
                       info=_HKDF_INFO).derive(base64.urlsafe_b64decode(key))
        self.aead = AESGCM(derived[:32])
        self.key_id = derived[32:]


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode("ascii")


class Keyring:
    """The data keys and the index key of one application."""

    def __init__(self, data_keys: list[str], index_key: str):
        if not data_keys:
            raise ValueError("at least one data key is required")
        self._keys = [DataKey(key) for key in data_keys]
        self._by_id: dict[bytes, DataKey] = {}
        named: dict[bytes, str] = {}
        for key, text in zip(self._keys, data_keys, strict=True):
            if named.setdefault(key.key_id, text) != text:  # 1 in 2**32 for a pair of keys
                raise ValueError("two data keys share a key id; generate another key")
            self._by_id.setdefault(key.key_id, key)
        self._current = self._keys[0]
        self.current_key_id = self._current.key_id
        self._prefix = bytes([TOKEN_VERSION]) + self._current.key_id
        self._fernet = MultiFernet([key.fernet for key in self._keys])
        self._index_key = index_key.encode()

    def encrypt_bytes(self, data: bytes, context: str) -> bytes:
        """Encrypt bytes with the newest key for ``context`` (the column, e.g. ``person.email``)."""
        nonce = os.urandom(NONCE_SIZE)
        body = self._current.aead.encrypt(nonce, data, context.encode())
        return base64.urlsafe_b64encode(self._prefix + nonce + body)

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt text with the newest key for ``context``."""
        nonce = os.urandom(NONCE_SIZE)
        body = self._current.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _b64(self._prefix + nonce + body)

    def encrypt_many(self, values: Sequence[str], contexts: Sequence[str]) -> list[str]:
        """Tokens for many values, each with its context: the same tokens as ``encrypt``
        gives one by one (a fresh nonce for every value), with one urandom call."""
        nonces = os.urandom(NONCE_SIZE * len(values))
        encrypt = self._current.aead.encrypt
        prefix = self._prefix
        tokens = []
        append = tokens.append
        start = 0
        for value, context in zip(values, contexts, strict=True):
            nonce = nonces[start:start + NONCE_SIZE]
            start += NONCE_SIZE
            body = prefix + nonce + encrypt(nonce, value.encode(), context.encode())
            append(binascii.b2a_base64(body, newline=False).translate(_URLSAFE).decode("ascii"))
        return tokens

    def decrypt_bytes(self, token: bytes, context: str) -> bytes:
        """Decrypt a token made with any configured key; ``InvalidToken`` if it does not."""
        try:
            raw = base64.urlsafe_b64decode(token)
        except (binascii.Error, ValueError):
            raise InvalidToken from None
        if raw[:1] == bytes([_FERNET_VERSION]):
            return self._fernet.decrypt(token)
        if raw[:1] != bytes([TOKEN_VERSION]) or len(raw) < _BODY + 16:
            raise InvalidToken
        key = self._by_id.get(raw[1:_HEADER])
        if key is None:
            raise InvalidToken
        try:
            return key.aead.decrypt(raw[_HEADER:_BODY], raw[_BODY:], context.encode())
        except InvalidTag:
            raise InvalidToken from None

    def decrypt(self, token: str, context: str) -> str:
        """Decrypt a text token made with any configured key for ``context``."""
        return self.decrypt_bytes(token.encode("ascii"), context).decode()

    def rotate(self, token: str, context: str) -> str:
        """Re-encrypt a token with the newest key (unchanged plaintext)."""
        return self.encrypt(self.decrypt(token, context), context)

    def is_current(self, token: str) -> bool:
        """Tell whether a token names the newest key (Fernet tokens never do)."""
        try:
            return base64.urlsafe_b64decode(token[:8])[:_HEADER] == self._prefix
        except (binascii.Error, ValueError):
            return False

    def key_id(self, token: str) -> bytes | None:
        """The id of the key a token was made with (``None`` for a Fernet token)."""
        raw = base64.urlsafe_b64decode(token[:8])
        return raw[1:_HEADER] if raw[0] == TOKEN_VERSION else None

    def index(self, purpose: str, normalised: str) -> str:
        """Keyed digest of an already-normalised value for one purpose."""
        return hmac.digest(self._index_key, f"{purpose}\x1f{normalised}".encode(), "sha256").hex()


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


def column_context(table: str, column: str) -> str:
    """The associated data binding a token to its column."""
    return f"{table}.{column}"


class EncryptedString(TypeDecorator):
    """Text encrypted at rest; reads and writes plain ``str`` in Python.

    Each token is bound to its column (``table.column`` as associated data):
    SQLAlchemy tells the type which column it belongs to when the column is
    created, and the table is known by the time a value is written or read.
    """

    impl = Text
    cache_ok = True

    def _set_parent(self, parent, outer=False, **kw):
        super()._set_parent(parent, outer=outer, **kw)
        self._column = parent

    @property
    def context(self) -> str:
        column = getattr(self, "_column", None)
        table = getattr(column, "table", None)
        if table is None:
            raise TypeError("EncryptedString is only usable as the type of a table column")
        return column_context(table.name, column.name)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("encrypted columns hold text")
        return keyring().encrypt(value, self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return keyring().decrypt(value, self.context)


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
# Spaces, hyphens, underscores, dots, and the dashes a word processor or a phone's
# keyboard puts in place of a hyphen (U+2010 to U+2015, the minus sign U+2212).
_CODE_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015\u2212]")


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
