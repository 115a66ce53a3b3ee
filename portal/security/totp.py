"""Time-based one-time passwords (RFC 6238) for staff two-factor sign-in."""

from __future__ import annotations

import base64
import io
import time

import pyotp
import qrcode
import qrcode.image.svg

ISSUER = "Breach Portal"


def new_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The URI as an SVG QR code in a ``data:`` URI (no external image service)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def matching_step(secret: str, code: str, last_step: int | None, now: float | None = None):
    """Return the time step a code is valid for, or ``None``.

    Accepts the current step and one either side (clock drift) and refuses any
    step at or before ``last_step``, so a code cannot be replayed.
    """
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def was_used(secret: str, code: str, last_step: int | None, now: float | None = None) -> bool:
    """Whether ``code`` is a valid code of a step already used (``matching_step`` refused it).

    Lets the sign-in page say the code was already used rather than blame the
    phone's clock. Only codes of the current step and one either side count.
    """
    if last_step is None:
        return False
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    return any(
        step <= last_step and pyotp.utils.strings_equal(totp.generate_otp(step), code)
        for step in (current, current - 1, current + 1)
    )
