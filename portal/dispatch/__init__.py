"""Outbound messages to affected people: the channels (SMS, email, outbox), the wording of short
messages, code reminders and reply notices; campaigns (``campaigns``), their chunk jobs
(``chunks``), shared rate limits (``ratelimit``) and the campaign wording (``notice_messages``).
"""

from __future__ import annotations


def init_app(app) -> None:
    """Register the dispatch's periodic job: release expired leases, queue due rows."""
    from portal.core import periodic
    from portal.dispatch.chunks import periodic_recover

    periodic.every("dispatch.recover", periodic_recover,
                   int(app.config["DISPATCH_RECOVER_EVERY_SECONDS"]), app=app)
