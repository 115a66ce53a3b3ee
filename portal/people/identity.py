"""Turn an affected person's plain details into stored column values.

Shared by the importer, the demo seed and the tests, so every path computes the
same blind indexes and verification digests.
"""

from __future__ import annotations

import hashlib

from portal.people.residence import residence_code
from portal.security.crypto import (
    Keyring,
    code_index,
    email_index,
    keyring_or_current,
    normalise_name,
    normalise_token,
    phone_index,
    policy_index,
    verification_digest,
)

PLAIN_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "policy_number",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "country",
)


def name_dob_index(last_name: str, date_of_birth: str, ring: Keyring | None = None) -> str:
    """Blind index of surname plus date of birth, for 'I did not get a letter'."""
    return keyring_or_current(ring).index(
        "name_dob", f"{normalise_name(last_name)}|{date_of_birth}"
    )


def policy_last4(policy_number: str) -> str:
    """The last four letters or digits of a policy number."""
    return normalise_token(policy_number)[-4:]


def row_digest(values: dict, ring: Keyring | None = None) -> str:
    """Keyed digest of everything imported for a person, to spot changed rows."""
    ordered = "\x1e".join([f"{key}={values[key] or ''}" for key in sorted(values)])
    return keyring_or_current(ring).index("row", hashlib.sha256(ordered.encode()).hexdigest())


def identity_columns(values: dict, ring: Keyring | None = None) -> dict:
    """Column values for a person: encrypted fields plus indexes and digests.

    ``values`` holds plain, already validated text: ``date_of_birth`` as an ISO
    date, ``phone`` in E.164, ``notice_code`` as issued. Missing keys are ``None``.
    Bulk callers pass ``ring`` to skip looking up the app's keyring per digest.
    """
    ring = keyring_or_current(ring)
    columns = {name: values.get(name) or None for name in PLAIN_FIELDS}
    email = columns["email"]
    phone = columns["phone"]
    policy = columns["policy_number"]
    dob = columns["date_of_birth"]
    postcode = columns["postcode"]
    columns.update(
        notice_code=values["notice_code"],
        code_index=code_index(values["notice_code"], ring),
        email_index=email_index(email, ring) if email else None,
        phone_index=phone_index(phone, ring) if phone else None,
        policy_index=policy_index(policy, ring) if policy else None,
        name_dob_index=(
            name_dob_index(columns["last_name"], dob, ring)
            if columns["last_name"] and dob else None
        ),
        postcode_digest=verification_digest("postcode", postcode, ring) if postcode else None,
        dob_digest=verification_digest("dob", dob, ring) if dob else None,
        policy_last4_digest=(
            verification_digest("policy_last4", policy_last4(policy), ring) if policy else None
        ),
        residence=residence_code(columns["country"], columns["region"]),
    )
    return columns
