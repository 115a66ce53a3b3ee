"""Cryptography and access control."""
