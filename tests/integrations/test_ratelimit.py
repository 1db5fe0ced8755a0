import os
import threading
import uuid

import pytest
import redis

from copilot.integrations.ratelimit import Limits, LocalRateLimiter, RedisRateLimiter


def redis_limiter(limits: Limits) -> RedisRateLimiter:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL")
    return RedisRateLimiter(
        redis.Redis.from_url(url), namespace=f"test:{uuid.uuid4().hex}", limits=limits
    )


@pytest.fixture(params=["local", "redis"])
def make_limiter(request):
    def make(limits: Limits):
        return (
            LocalRateLimiter(limits=limits) if request.param == "local" else redis_limiter(limits)
        )

    return make


def test_concurrent_senders_never_exceed_the_window(make_limiter):
    limiter = make_limiter(Limits(per_window=25, per_customer=1000))
    granted = []

    def send():
        for _ in range(10):
            if limiter.acquire() == 0:
                granted.append(1)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(granted) == 25
    assert 59 < limiter.acquire() <= 60


def test_a_customer_limit_does_not_hold_other_customers(make_limiter):
    limiter = make_limiter(Limits(per_window=100, per_customer=2))

    assert [limiter.acquire(customer_id="a") for _ in range(2)] == [0, 0]
    assert limiter.acquire(customer_id="a") > 0
    assert limiter.acquire(customer_id="b") == 0
    # A refused request takes no slot from the organisation's budget.
    assert limiter.acquire() == 0


def test_a_block_holds_every_sender_until_it_ends(make_limiter):
    limiter = make_limiter(Limits(per_window=100, per_customer=100))

    limiter.block_for(5)

    assert 4 < limiter.acquire() <= 5
