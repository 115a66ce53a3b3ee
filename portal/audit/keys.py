"""The audit chain's keys, read from the application's settings.

``PORTAL_AUDIT_KEY`` keys the chain's HMAC; ``PORTAL_AUDIT_SIGNING_KEY`` (base64 of an
Ed25519 private key's 32 raw bytes) signs checkpoints. Neither is ever stored in the
database.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app


def audit_key() -> bytes:
    """The chain's HMAC key as bytes."""
    return current_app.config["PORTAL_AUDIT_KEY"].encode()


def signing_key() -> Ed25519PrivateKey:
    """The checkpoints' Ed25519 private key."""
    raw = base64.b64decode(current_app.config["PORTAL_AUDIT_SIGNING_KEY"])
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key() -> Ed25519PublicKey:
    """The public half of the signing key: what an auditor keeps."""
    return signing_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    """A public key as PEM (SubjectPublicKeyInfo), the form ``audit public-key`` prints."""
    key = key or public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Read a PEM public key; ``ValueError`` if it is not an Ed25519 key."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
