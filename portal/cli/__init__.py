"""``flask`` commands, one module per group."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every command group to the application."""
    from portal.cli import audit_cmd, demo_cmd, keys_cmd, translate_cmd, users_cmd, worker_cmd

    for module in (audit_cmd, demo_cmd, keys_cmd, translate_cmd, users_cmd, worker_cmd):
        module.register(app)
    from portal.cli import codes_cmd, persons_cmd  # import of persons and activation codes

    for module in (codes_cmd, persons_cmd):
        module.register(app)
    from portal.cli import incidents_cmd  # incidents

    incidents_cmd.register(app)
    # campaigns (issue 9)
    from portal.cli import campaigns_cmd

    campaigns_cmd.register(app)
    from portal.cli import campaign_files_cmd  # evidence and letters (campaign-ui)

    campaign_files_cmd.register(campaigns_cmd.campaigns)

    # helpdesk (issue 10)

    # audit chain and retention (issue 11)
    from portal.cli import data_cmd

    data_cmd.register(app)

    # oversight (issue 11)
    from portal.cli import audit_export_cmd

    audit_export_cmd.register(app)

