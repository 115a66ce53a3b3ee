"""The demo insurer: its name and a small logo drawn here (no image files shipped)."""

from __future__ import annotations

import io

from portal.incidents.brand import set_logo
from portal.models import Incident

DEMO_INSURER = "Demo Mutual Insurance"
FONT = "DejaVuSans-Bold.ttf"


def demo_logo() -> bytes:
    """A 240 x 64 PNG: a navy tile with "DM" and the word "Mutual"."""
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    fonts = Path(__file__).resolve().parent.parent / "static" / "fonts"
    image = Image.new("RGB", (240, 64), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((2, 2, 62, 62), radius=10, fill=(22, 52, 96))
    draw.text((32, 33), "DM", font=ImageFont.truetype(str(fonts / FONT), 26),
              fill="white", anchor="mm")
    draw.text((74, 33), "Mutual", font=ImageFont.truetype(str(fonts / FONT), 30),
              fill=(22, 52, 96), anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def seed_brand(incident: Incident) -> None:
    """Name the demo insurer and give it the logo, unless a manager has set them."""
    if not incident.insurer_name:
        incident.insurer_name = DEMO_INSURER
    if not incident.insurer_logo_digest:
        set_logo(incident, demo_logo())
