"""The per-channel token bucket in Redis, shared by every worker."""

from __future__ import annotations

import pytest

from portal.dispatch import ratelimit
from tests.support import REDIS_URL, make_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def app_settings(database_url, data_keys, redis):
    return make_settings(database_url, data_keys, REDIS_URL=REDIS_URL,
                         DISPATCH_SMS_PER_SECOND=20, DISPATCH_EMAIL_PER_SECOND=0)


@pytest.fixture
def bucket(app, redis):
    yield
    for key in redis.scan_iter(f"{app.config['PORTAL_RQ_QUEUE']}:bucket:*"):
        redis.delete(key)


def test_a_full_bucket_grants_one_second_then_asks_to_wait(app, bucket):
    granted, wait = ratelimit.take("sms", 50)
    assert granted == 20 and 0 < wait <= 0.05 + 1e-9
    assert ratelimit.take("sms", 5)[0] <= 1  # empty: at most what trickled in since
    assert ratelimit.take("email", 10**6) == (10**6, 0.0)  # 0 = unlimited
    assert ratelimit.batch_size("sms") == 2


def test_acquire_sleeps_until_tokens_come_back(app, bucket):
    ratelimit.take("sms", 20)
    slept = []
    assert ratelimit.acquire("sms", 1, sleep=lambda seconds: slept.append(seconds)) >= 1 or slept
    assert all(0 < seconds <= 0.06 for seconds in slept)
