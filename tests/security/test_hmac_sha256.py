"""The pre-keyed HMAC-SHA256 equals the standard library's HMAC."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from portal.security.hmac_sha256 import HmacSha256


@pytest.mark.parametrize("key_length", [0, 1, 16, 32, 63, 64, 65, 100, 200])
def test_equals_hmac_new_for_keys_shorter_equal_and_longer_than_a_block(key_length):
    rng = random.Random(key_length)
    key = bytes(rng.randrange(256) for _ in range(key_length))
    mac = HmacSha256(key)
    for length in (0, 1, 55, 56, 63, 64, 65, 119, 120, 200, 1000):
        message = bytes(rng.randrange(256) for _ in range(length))
        expected = hmac.new(key, message, hashlib.sha256)
        assert mac.digest(message) == expected.digest()
        assert mac.hexdigest(message) == expected.hexdigest()
