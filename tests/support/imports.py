"""Building affected-persons CSV files for the import tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from portal.imports.rows import COLUMNS


def good_row(n: int, **changes) -> dict:
    """A valid row; ``changes`` override columns."""
    row = {
        "external_ref": f"EXT-{n:06d}",
        "first_name": "Ana",
        "last_name": f"Tester{n}",
        "date_of_birth": "1980-02-29",
        "postcode": "94105",
        "policy_number": f"POL-{n:08d}",
        "email": f"ana{n}@example.com",
        "phone": f"(415) 555-{n % 10000:04d}",
        "address_line1": f"{n} Main Street",
        "address_line2": "",
        "city": "San Francisco",
        "region": "CA",
        "country": "US",
        "language": "en",
        "categories": "contact_details;date_of_birth",
        "notice_code": "",
    }
    row.update(changes)
    return row


def csv_text(rows: list[dict], header=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def write_csv(path: Path, rows: list[dict], *, bom: bool = False, header=COLUMNS) -> Path:
    data = csv_text(rows, header).encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path
