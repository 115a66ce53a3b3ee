"""Alembic environment, run through Flask-Migrate inside the application context."""

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

from portal.models.base import UTCDateTime
from portal.security.crypto import BlindIndex, EncryptedString

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the project's column types as their plain database types."""
    if type_ == "type":
        if isinstance(obj, EncryptedString):
            return "sa.Text()"
        if isinstance(obj, BlindIndex):
            return "sa.String(length=64)"
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
    return False


def _options():
    return {
        "target_metadata": target_db.metadata,
        "render_item": render_item,
        "compare_type": True,
        "render_as_batch": True,
        **current_app.extensions["migrate"].configure_args,
    }


def run_migrations_offline():
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    options = _options()
    options.setdefault("process_revision_directives", process_revision_directives)
    connectable = target_db.engine
    with connectable.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    _ = sa  # referenced by generated revisions


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
