"""Encrypted columns, AES-GCM tokens, blind indexes, codes and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, select, type_coerce

from portal import create_app
from portal.models import Person, StaffUser
from portal.security import crypto
from tests.support import make_settings


def test_personal_data_is_encrypted_at_rest(db, make_person):
    person, plain = make_person()
    raw = db.session.execute(
        select(type_coerce(Person.email, Text), type_coerce(Person.date_of_birth, Text)).where(
            Person.id == person.id
        )
    ).one()
    ring = crypto.keyring()
    for stored, value in zip(raw, (plain["email"], plain["date_of_birth"]), strict=True):
        assert value not in stored
        assert base64.urlsafe_b64decode(stored)[0] == crypto.TOKEN_VERSION  # an AES-GCM token
        assert ring.key_id(stored) == ring.current_key_id  # that names its key
    db.session.expire_all()
    assert db.session.get(Person, person.id).email == plain["email"]


def test_blind_index_finds_without_decrypting(db, make_person):
    person, plain = make_person(email="Mixed.Case@Customer.Example")
    found = db.session.execute(
        select(Person.id).where(
            Person.email_index == crypto.email_index("mixed.case@customer.example ")
        )
    ).scalar_one()
    assert found == person.id


def test_indexes_differ_by_purpose(app):
    ring = crypto.keyring()
    assert ring.index("email", "x") != ring.index("phone", "x")


@given(st.text(alphabet=crypto.CROCKFORD, min_size=12, max_size=12))
def test_code_normalisation_round_trips(code):
    formatted = crypto.format_code(code)
    assert crypto.normalise_code(formatted) == code
    assert crypto.normalise_code(formatted.lower().replace("-", " ")) == code
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212":  # pasted from a letter or a mail
        assert crypto.normalise_code(formatted.replace("-", dash)) == code


def test_generated_codes_are_well_formed_and_distinct():
    codes = {crypto.generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(crypto.is_valid_code(code) for code in codes)
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)


def test_misread_characters_are_forgiven():
    assert crypto.normalise_code("ol1i-0000-0000") == "0111" + "0" * 8


@pytest.mark.parametrize(
    ("written", "plain"),
    [("Zoë Müller-Lüdenscheidt", "Zoe Muller Ludenscheidt"), ("ＯʼＢＲＩＥＮ", "o'brien"),
     ("José", "JOSE")],
)
def test_names_match_without_case_accents_or_punctuation(written, plain):
    """Accented, full-width and plain ASCII spellings of a name give the same key."""
    assert crypto.normalise_name(written) == crypto.normalise_name(plain)
    assert crypto.normalise_name(plain).isascii()


def test_keys_rotate_then_the_oldest_key_can_be_dropped(database_url, app, db, make_person,
                                                        make_staff, data_keys):
    import pyotp

    person, plain = make_person()
    secret = pyotp.random_base32()
    make_staff("admin", totp_secret=secret)
    person_id = person.id
    db.session.remove()

    new_key = Fernet.generate_key().decode()
    rotated_app = create_app(make_settings(database_url, [new_key, *data_keys]))
    with rotated_app.app_context():
        result = rotated_app.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "1"])
        assert result.exit_code == 0, result.output
        assert "re-encrypted" in result.output
        rotated_app.extensions["sqlalchemy"].engine.dispose()

    only_new = create_app(make_settings(database_url, [new_key]))
    with only_new.app_context():
        from portal.extensions import db as db2

        reread = db2.session.get(Person, person_id)
        assert reread.email == plain["email"]
        assert reread.notice_code == plain["notice_code"]
        staff = db2.session.execute(select(StaffUser)).scalar_one()
        assert staff.totp_secret == secret
        # Rotation is idempotent: nothing left to rewrite.
        again = only_new.test_cli_runner().invoke(args=["keys", "rotate"])
        assert "done: 0 values" in again.output
        db2.session.remove()
        db2.engine.dispose()


def test_without_the_old_key_unrotated_data_is_unreadable(database_url, app, db, make_person):
    person, _ = make_person()
    person_id = person.id
    db.session.remove()
    other = create_app(make_settings(database_url, [Fernet.generate_key().decode()]))
    with other.app_context():
        from portal.extensions import db as db2

        with pytest.raises(InvalidToken):
            db2.session.get(Person, person_id)
        db2.session.remove()
        db2.engine.dispose()


def test_keys_generate_prints_a_fernet_format_key(runner):
    """32 random bytes in url-safe base64: a valid Fernet key (config checks the format),
    from which the keyring derives its AES-256-GCM key."""
    result = runner.invoke(args=["keys", "generate"])
    Fernet(result.output.strip())
    assert len(base64.urlsafe_b64decode(result.output.strip())) == 32
    ring = crypto.Keyring([result.output.strip()], "i" * 32)
    assert ring.decrypt(ring.encrypt("x", "t.c"), "t.c") == "x"


# --- tokens ------------------------------------------------------------------------------

KEY = Fernet.generate_key().decode()
INDEX_KEY = "index-key-" * 4


def _ring(*keys: str) -> crypto.Keyring:
    return crypto.Keyring(list(keys or (KEY,)), INDEX_KEY)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80), max_size=40))
def test_tokens_round_trip_one_by_one_and_in_bulk(values):
    ring = _ring()
    contexts = [f"t.c{i % 3}" for i in range(len(values))]
    tokens = ring.encrypt_many(values, contexts)
    assert [ring.decrypt(t, c) for t, c in zip(tokens, contexts, strict=True)] == values
    assert [ring.decrypt(ring.encrypt(v, "t.c"), "t.c") for v in values] == values


def test_the_token_format_is_plain_aes_gcm_from_the_library():
    """version byte, key id, 96-bit nonce, ciphertext and tag; the column is the associated
    data; the AES key is derived from the data key with HKDF (so a Fernet key stays valid)."""
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    ring = _ring()
    token = ring.encrypt_many(["Zoë"], ["person.first_name"])[0]
    raw = base64.urlsafe_b64decode(token)
    derived = HKDF(SHA256(), 36, None, crypto._HKDF_INFO).derive(base64.urlsafe_b64decode(KEY))
    assert raw[0] == crypto.TOKEN_VERSION and raw[1:5] == derived[32:] == ring.current_key_id
    plain = AESGCM(derived[:32]).decrypt(raw[5:17], raw[17:], b"person.first_name")
    assert plain == "Zoë".encode()
    assert len(raw) == 1 + 4 + 12 + len(plain) + 16


def test_every_token_has_its_own_nonce():
    tokens = _ring().encrypt_many(["same"] * 50, ["t.c"] * 50)
    assert len(set(tokens)) == 50
    nonces = {base64.urlsafe_b64decode(token)[5:17] for token in tokens}
    assert len(nonces) == 50


def test_a_flipped_byte_anywhere_fails():
    ring = _ring()
    raw = bytearray(base64.urlsafe_b64decode(ring.encrypt("secret value", "t.c")))
    for position in range(len(raw)):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        with pytest.raises(InvalidToken):
            ring.decrypt(base64.urlsafe_b64encode(bytes(tampered)).decode(), "t.c")
    with pytest.raises(InvalidToken):
        ring.decrypt("not base64!", "t.c")


def test_tokens_of_another_key_or_another_column_do_not_decrypt():
    token = _ring().encrypt_many(["secret"], ["person.email"])[0]
    with pytest.raises(InvalidToken):
        _ring(Fernet.generate_key().decode()).decrypt(token, "person.email")
    with pytest.raises(InvalidToken):
        _ring().decrypt(token, "person.phone")  # bound to its column


def test_old_fernet_tokens_still_read_and_rotate_to_the_new_format():
    old = Fernet(KEY).encrypt(b"written before AES-GCM").decode()
    new_key = Fernet.generate_key().decode()
    ring = _ring(new_key, KEY)
    assert ring.decrypt(old, "person.email") == "written before AES-GCM"
    assert not ring.is_current(old)
    rotated = ring.rotate(old, "person.email")
    assert ring.is_current(rotated) and ring.key_id(rotated) == ring.current_key_id
    assert _ring(new_key).decrypt(rotated, "person.email") == "written before AES-GCM"
    older = _ring(KEY).encrypt("under the old key", "t.c")
    assert _ring(KEY).key_id(older) != ring.current_key_id and not ring.is_current(older)
    assert ring.decrypt(older, "t.c") == "under the old key"
    assert ring.decrypt(ring.rotate(older, "t.c"), "t.c") == "under the old key"


def test_uploads_encrypt_as_bytes():
    ring = _ring()
    data = bytes(range(256)) * 10
    token = ring.encrypt_bytes(data, "import_run.upload")
    assert ring.decrypt_bytes(token, "import_run.upload") == data
    assert ring.decrypt_bytes(Fernet(KEY).encrypt(data), "import_run.upload") == data


def test_encrypted_strings_know_their_column(app):
    from portal.models import Person

    assert Person.__table__.c.email.type.context == "person.email"
    with pytest.raises(TypeError):
        _ = crypto.EncryptedString().context


# --- blind indexes ---------------------------------------------------------------------------


@pytest.mark.parametrize("key_length", [0, 1, 16, 32, 63, 64, 65, 100, 200])
def test_index_equals_hmac_new_for_keys_shorter_equal_and_longer_than_a_block(key_length):
    rng = random.Random(key_length)
    key = "".join(chr(rng.randrange(32, 127)) for _ in range(key_length))
    ring = crypto.Keyring([KEY], key)
    for length in (0, 1, 55, 56, 63, 64, 65, 119, 120, 200, 1000):
        message = "".join(chr(rng.randrange(32, 127)) for _ in range(length))
        expected = hmac.new(key.encode(), f"p\x1f{message}".encode(), hashlib.sha256)
        assert ring.index("p", message) == expected.hexdigest()


def test_rotation_moves_stored_fernet_tokens_to_the_new_format(db, make_person, runner,
                                                             data_keys):
    """A value written as a Fernet token before AES-GCM reads, and ``keys rotate`` rewrites it."""
    from sqlalchemy import update

    person, plain = make_person()
    old = Fernet(data_keys[0]).encrypt(plain["email"].encode()).decode()
    raw_email = type_coerce(Person.email, Text)
    db.session.execute(update(Person).where(Person.id == person.id).values(
        {raw_email: old}))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person.id).email == plain["email"]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "person.email: 1 re-encrypted" in result.output
    stored = db.session.execute(select(raw_email).where(Person.id == person.id)).scalar_one()
    ring = crypto.keyring()
    assert stored != old and ring.is_current(stored)
    assert ring.decrypt(stored, "person.email") == plain["email"]
