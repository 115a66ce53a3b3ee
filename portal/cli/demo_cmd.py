"""``flask demo``: migrate, seed the demo incident and serve on the embedded default."""

from __future__ import annotations

import click
from flask import Flask, current_app

from portal.config import Config


def demo_base_url(host: str, port: int) -> str:
    """The demo's own address; also the links' base when ``PORTAL_BASE_URL`` is not set.

    Links in messages (the outbox) then follow ``--host``/``--port``. A wildcard
    host is shown as 127.0.0.1, the address a browser on this machine opens.
    """
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    if current_app.config["PORTAL_BASE_URL"] == Config.PORTAL_BASE_URL:
        current_app.config["PORTAL_BASE_URL"] = base
    return base


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(no_serve: bool, host: str, port: int) -> None:
    """Set up the demo (idempotently) and serve it."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("the demo seed is not for production databases")
    from flask_migrate import upgrade

    from portal.demo import seed

    upgrade()
    info = seed()
    base = demo_base_url(host, port)
    click.echo("")
    click.echo(f"Demo incident {info['incident']} is ready ({info['people_added']} people added).")
    click.echo("")
    click.echo(f"Staff sign-in: {base}/staff/login")
    for email, role, password in info["staff"]:
        click.echo(f"  {role:8} {email:24} password: {password}")
    click.echo("  The admin sets up two-factor sign-in (any authenticator app) at first sign-in.")
    click.echo("")
    sample = info["sample"]
    click.echo(f"Sample customer (demo data): {base}/n/{sample['notice_code']}")
    click.echo(f"  notice code:   {sample['notice_code']}")
    click.echo(f"  date of birth: {sample['date_of_birth']}")
    click.echo(f"  postcode:      {sample['postcode']}")
    click.echo("")
    readers = [(email, password) for email, role, password in info["staff"]
               if role in ("manager", "admin")]
    click.echo("Messages that would be sent by SMS or email are kept in the outbox:")
    click.echo(f"  {base}/dev/outbox")
    if readers:
        email, password = readers[0]
        click.echo(f"  Sign in as a manager or admin to read it, e.g. {email} "
                   f"(password: {password}).")
    click.echo("  Codes show masked; revealing a message is recorded in the interaction log.")
    if no_serve:
        return
    from portal.dispatch.channels.outbox import exposure_warning

    warning = exposure_warning(current_app.config, bind_host=host)
    if warning:
        click.secho(warning, fg="red", bold=True, err=True)
    click.echo(f"Serving on {base} (Ctrl+C to stop)")
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), use_reloader=False, threaded=True)


def register(app: Flask) -> None:
    app.cli.add_command(demo)
