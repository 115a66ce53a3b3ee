"""Encrypted columns, blind indexes, codes and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
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
    for stored, value in zip(raw, (plain["email"], plain["date_of_birth"]), strict=True):
        assert value not in stored
        assert stored.startswith("gAAAA")  # a Fernet token
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
    from cryptography.fernet import InvalidToken

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


def test_keys_generate_prints_a_fernet_key(runner):
    result = runner.invoke(args=["keys", "generate"])
    Fernet(result.output.strip())
