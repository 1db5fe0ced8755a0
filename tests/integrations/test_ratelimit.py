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


def test_an_unreachable_limiter_says_wait_and_nothing_is_sent():
    from copilot.integrations.http import RateLimited
    from tests.processes import free_port

    # Nothing listens on this port: Redis is down.
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)
    limiter = RedisRateLimiter(client, namespace="down", limits=Limits(10, 10))

    with pytest.raises(RateLimited) as error:
        limiter.acquire(customer_id="c1")

    assert error.value.retry_after == 5.0
    assert "cannot be reached" in str(error.value)
