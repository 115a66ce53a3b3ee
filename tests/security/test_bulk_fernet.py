"""Bulk encryption produces ordinary Fernet tokens."""

from __future__ import annotations

from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.security.bulk_fernet import BulkFernet

KEY = Fernet.generate_key().decode()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80), max_size=40))
def test_tokens_decrypt_with_cryptography_fernet(values):
    tokens = BulkFernet(KEY).encrypt_many(values)
    fernet = Fernet(KEY)
    assert [fernet.decrypt(token.encode()).decode() for token in tokens] == values


def test_every_token_has_its_own_iv():
    tokens = BulkFernet(KEY).encrypt_many(["same"] * 50)
    assert len(set(tokens)) == 50
    import base64

    ivs = {base64.urlsafe_b64decode(token)[9:25] for token in tokens}
    assert len(ivs) == 50


def test_tokens_of_another_key_do_not_decrypt():
    import pytest
    from cryptography.fernet import InvalidToken

    token = BulkFernet(KEY).encrypt_many(["secret"])[0]
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(token.encode())
