"""``flask keys``: generate data keys and re-encrypt everything with the newest."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import Text, bindparam, select, type_coerce, update

from portal.extensions import db
from portal.security.crypto import EncryptedString, column_context, generate_key, keyring

group = AppGroup("keys", help="Data encryption keys.")


def encrypted_columns() -> list[tuple]:
    """Every (table, primary-key column, encrypted column) in the schema."""
    found = []
    for table in db.metadata.sorted_tables:
        primary = list(table.primary_key.columns)
        for column in table.columns:
            if isinstance(column.type, EncryptedString):
                found.append((table, primary[0], column))
    return found


def rotate(batch_size: int = 1000, progress=None) -> dict[str, int]:
    """Re-encrypt every stored token that is not under the newest key.

    Fernet tokens (written before AES-GCM) are never current, so a rotation
    also moves every old token to the AES-GCM format.

    Works in batches by primary key and commits each one, so it can be stopped
    and run again; it returns how many values were rewritten per column.
    """
    ring = keyring()
    counts: dict[str, int] = {}
    for table, pk, column in encrypted_columns():
        raw = type_coerce(column, Text)
        context = column_context(table.name, column.name)
        statement = (
            update(table)
            .where(pk == bindparam("pk"))
            .values({column.name: bindparam("token", type_=Text)})
        )
        rewritten = 0
        last = None
        while True:
            query = select(pk, raw).where(column.is_not(None)).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            last = rows[-1][0]
            params = [
                {"pk": key, "token": ring.rotate(token, context)}
                for key, token in rows
                if not ring.is_current(token)
            ]
            if params:
                db.session.execute(statement, params)
                rewritten += len(params)
            db.session.commit()
            if progress:
                progress(f"{table.name}.{column.name}", len(rows))
        counts[f"{table.name}.{column.name}"] = rewritten
    return counts


@group.command("rotate")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100000))
def rotate_command(batch_size: int) -> None:
    """Re-encrypt all personal data with the first key of PORTAL_DATA_KEYS."""
    from portal.audit import log as audit
    counts = rotate(batch_size)
    total = sum(counts.values())
    for name, count in counts.items():
        if count:
            click.echo(f"{name}: {count} re-encrypted")
    audit.record("keys.rotated", actor_type="system", details={"values": total})
    db.session.commit()
    click.echo(f"done: {total} values re-encrypted; older keys can now be removed")


@group.command("generate")
def generate() -> None:
    """Print a new data key to put first in PORTAL_DATA_KEYS."""
    click.echo(generate_key())


def register(app: Flask) -> None:
    app.cli.add_command(group)
