"""Per-channel send rates shared by every worker: one token bucket per channel in Redis.

The bucket is a hash (tokens, time) updated by one Lua script, so taking tokens is
atomic across any number of workers and machines; the script reads Redis's own
clock, so the workers' clocks do not matter. A worker takes tokens in small
batches (one round trip per batch, not per message). Rate 0 means unlimited;
without Redis (the embedded default) the outbox needs no limit.
"""

from __future__ import annotations

import time

from flask import current_app

from portal.core import jobs

SETTINGS = {"sms": "DISPATCH_SMS_PER_SECOND", "email": "DISPATCH_EMAIL_PER_SECOND"}

# KEYS[1] bucket; ARGV: rate per second, capacity, tokens wanted.
# Returns {granted, milliseconds to wait before asking again}.
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + (now - at) * rate / 1000000)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
local wait = 0
if granted < wanted then
  wait = math.ceil((1 - (tokens - math.floor(tokens))) * 1000 / rate)
end
return {granted, wait}
"""


def rate(channel: str) -> int:
    """Messages per second allowed on ``channel``; 0 = unlimited."""
    setting = SETTINGS.get(channel)
    return int(current_app.config[setting]) if setting else 0


def _key(channel: str) -> str:
    return f"{current_app.config['PORTAL_RQ_QUEUE']}:bucket:{channel}"


def _script():
    connection = jobs.redis_connection()
    scripts = current_app.extensions.setdefault("dispatch_scripts", {})
    if "take" not in scripts:
        scripts["take"] = connection.register_script(_TAKE)
    return scripts["take"]


def take(channel: str, wanted: int) -> tuple[int, float]:
    """Take up to ``wanted`` tokens now: (granted, seconds to wait before asking again)."""
    per_second = rate(channel)
    if per_second <= 0 or jobs.redis_connection() is None or wanted <= 0:
        return wanted, 0.0
    # A bucket holds one second of tokens: a burst never exceeds the rate.
    granted, wait_ms = _script()(keys=[_key(channel)], args=[per_second, per_second, wanted])
    return int(granted), int(wait_ms) / 1000


def acquire(channel: str, wanted: int, sleep=time.sleep) -> int:
    """Block until at least one token is granted; return how many (1..``wanted``)."""
    while True:
        granted, wait = take(channel, wanted)
        if granted:
            return granted
        sleep(max(wait, 0.001))


def batch_size(channel: str) -> int:
    """How many tokens a worker asks for at once: a tenth of a second's worth."""
    per_second = rate(channel)
    return max(1, per_second // 10) if per_second > 0 else 1_000_000
