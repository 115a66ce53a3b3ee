"""Who else has a ticket open: presence that expires within a minute.

With Redis configured, each ticket has a sorted set of staff ids scored by the
time they last loaded or pinged the page (keys namespaced by ``PORTAL_RQ_QUEUE``
and expiring on their own); on the embedded default the ``ticket_viewer`` table
does the same. Entries older than ``TICKET_PRESENCE_SECONDS`` do not count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from portal.core.jobs import redis_connection
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.staff import StaffUser
from portal.models.ticket import TicketViewer
from portal.tickets.queue import agents

# A visit in one command, run atomically by Redis (as MULTI/EXEC would, but one command
# costs redis-py a seventh of the Python a five-command transaction did): the staff
# member's previous time, their new one, the expired entries dropped, the key's expiry,
# and the ids present since the window's start when names are wanted.
VISIT_SCRIPT = """
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[5] == '1' then
  return {before, redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], '+inf')}
end
return {before}
"""


def window() -> int:
    """Seconds a page load keeps a staff member present."""
    return int(current_app.config["TICKET_PRESENCE_SECONDS"])


def _key(ticket_id: int) -> str:
    return f"{current_app.config['PORTAL_RQ_QUEUE']}:presence:ticket:{ticket_id}"


def touch(ticket_id: int, staff_id: int, now: datetime | None = None) -> bool:
    """Mark the staff member present on the ticket; True if they were not already present."""
    return visit(ticket_id, staff_id, now, names=False)[0]


def visit(ticket_id: int, staff_id: int, now: datetime | None = None, *,
          names: bool = True) -> tuple[bool, list[str]]:
    """``touch`` and ``others`` together: whether the staff member arrived (was not
    already present), and the names of the other staff present. With Redis, one command
    for both (``VISIT_SCRIPT``)."""
    now = now or utcnow()
    since = now - timedelta(seconds=window())
    redis = redis_connection()
    if redis is None:
        arrived = _touch_row(ticket_id, staff_id, now, since)
        return arrived, (others(ticket_id, staff_id, now) if names else [])
    replies = redis.register_script(VISIT_SCRIPT)(
        keys=[_key(ticket_id)],
        args=[staff_id, repr(now.timestamp()), repr(since.timestamp()), window() + 5,
              1 if names else 0])
    before = None if replies[0] is None else float(replies[0])
    arrived = before is None or before < since.timestamp()
    return arrived, (_names(replies[1], staff_id) if names else [])


def _touch_row(ticket_id: int, staff_id: int, now: datetime, since: datetime) -> bool:
    row = db.session.execute(
        select(TicketViewer).where(TicketViewer.ticket_id == ticket_id,
                                   TicketViewer.staff_id == staff_id)).scalar_one_or_none()
    if row is None:
        db.session.add(TicketViewer(ticket_id=ticket_id, staff_id=staff_id, seen_at=now))
        return True
    arrived = row.seen_at < since
    row.seen_at = now
    return arrived


def others(ticket_id: int, staff_id: int, now: datetime | None = None) -> list[str]:
    """Names of the other staff present on the ticket, by name."""
    since = (now or utcnow()) - timedelta(seconds=window())
    redis = redis_connection()
    if redis is not None:
        return _names(redis.zrangebyscore(_key(ticket_id), since.timestamp(), "+inf"),
                      staff_id)
    return sorted(db.session.execute(
        select(StaffUser.name).join(TicketViewer, TicketViewer.staff_id == StaffUser.id)
        .where(TicketViewer.ticket_id == ticket_id, TicketViewer.staff_id != staff_id,
               TicketViewer.seen_at >= since)).scalars())


def _names(members, staff_id: int) -> list[str]:
    """The names of the staff ids in ``members`` (Redis' answer), but ``staff_id``'s:
    from the kept list of active staff, and read for any it does not have yet."""
    ids = {int(member) for member in members} - {staff_id}
    if not ids:
        return []
    known = dict(agents())
    found = [known[member] for member in ids if member in known]
    missing = [member for member in ids if member not in known]
    if missing:
        found += db.session.execute(
            select(StaffUser.name).where(StaffUser.id.in_(missing))).scalars()
    return sorted(found)


def leave(ticket_id: int, staff_id: int) -> None:
    """Forget the staff member's presence on the ticket (e.g. after sending)."""
    redis = redis_connection()
    if redis is not None:
        redis.zrem(_key(ticket_id), staff_id)
        return
    db.session.execute(delete(TicketViewer).where(TicketViewer.ticket_id == ticket_id,
                                                  TicketViewer.staff_id == staff_id))
