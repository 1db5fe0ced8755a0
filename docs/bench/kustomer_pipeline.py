"""The Kustomer pipeline end to end, with a real Celery worker on Redis and the fake Kustomer.

    # webhook received -> note visible in Kustomer, one message at a time
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python docs/bench/kustomer_pipeline.py end-to-end --messages 200 --rate 5

    # 5,000 messages from 50 customers against an org limit of 1,000/min and 120/customer/min
    DATABASE_URL=... REDIS_URL=... .venv/bin/python docs/bench/kustomer_pipeline.py burst

gunicorn serves the app and the fake Kustomer (COPILOT_SANDBOX=true); the fake's webhook
deliveries leave from this process. The demo intent model is trained first.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from common import (
    ROOT,
    bench_database_url,
    celery_worker,
    cpu_summary,
    environment,
    free_port,
    gunicorn,
    manage,
    median,
    percentile,
)

COPILOT_ROLES = [
    "org.user.customer.read",
    "org.user.conversation.read",
    "org.user.conversation.write",
    "org.user.message.read",
    "org.user.note.write",
    "org.user.kobject.read",
    "org.user.kobject.write",
    "org.user.shortcut.read",
]


def start(arguments, *, org_limit: int, customer_limit: int, workdir: Path):
    port = free_port()
    base_env = environment(
        DATABASE_URL=bench_database_url(),
        COPILOT_SANDBOX="true",
        COPILOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        KUSTOMER_API_BASE_URL=f"http://127.0.0.1:{port}/sandbox/kustomer",
        KUSTOMER_NOTES="always",
        KUSTOMER_RATE_LIMIT_PER_MINUTE=str(org_limit),
        KUSTOMER_CUSTOMER_CREATES_PER_MINUTE=str(customer_limit),
        SANDBOX_KUSTOMER_ORG_RATE_LIMIT=str(org_limit),
        SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT=str(customer_limit),
        LOG_LEVEL="WARNING",
    )
    os.environ.update(base_env)
    import redis

    redis.Redis.from_url(base_env["REDIS_URL"]).flushdb()
    manage(base_env, "migrate", "--no-input")
    manage(base_env, "intents_import", "intents/fixtures/demo_intents.csv")
    manage(base_env, "intents_train", "--activate")

    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "copilot.settings"
    import django

    django.setup()
    from copilot.sandbox.kustomer import services as sandbox

    admin_key = sandbox.api_key_create(roles=["org.admin"], name="setup").token
    copilot_key = sandbox.api_key_create(roles=COPILOT_ROLES, name="copilot").token
    server = gunicorn(
        {**base_env, "KUSTOMER_API_KEY": copilot_key},
        port=port,
        workers=arguments.web_workers,
        threads=4,
        log=workdir / "gunicorn.log",
    )
    manage({**base_env, "KUSTOMER_API_KEY": admin_key}, "kustomer_setup")
    worker = celery_worker(
        {**base_env, "KUSTOMER_API_KEY": copilot_key},
        concurrency=arguments.worker_concurrency,
        log=workdir / "worker.log",
    )
    return server, worker, sandbox


def warm_up(sandbox, customer) -> str:
    """One message through the whole pipeline, so the worker is up before the clock starts."""
    from copilot.inbox.models import InboundMessage

    message = sandbox.message_send_from_customer(customer=customer, body="warm-up: hello")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if InboundMessage.objects.filter(
            kustomer_message_id=message.id, status__in=["written", "failed"]
        ).exists():
            InboundMessage.objects.filter(kustomer_message_id=message.id).delete()
            return message.id
        time.sleep(0.2)
    raise RuntimeError("the worker did not process the warm-up message in 2 minutes")


def end_to_end(arguments) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="e2e-"))
    server, worker, sandbox = start(
        arguments, org_limit=100000, customer_limit=100000, workdir=workdir
    )
    from copilot.inbox.models import InboundMessage
    from copilot.sandbox.kustomer.models import Note

    try:
        customers = [
            sandbox.customer_create(name=f"Customer {index}", email=f"c{index}@example.com")
            for index in range(20)
        ]
        warm_up(sandbox, customers[0])
        texts = [
            "Where is my order #{n}? The tracking has not moved for a week.",
            "Please cancel order {n}, I ordered the wrong size.",
            "I want a refund for order {n}, the lamp arrived broken.",
            "Can I change the shipping address on order {n}? I moved last week.",
        ]
        sent = []
        for index in range(arguments.messages):
            message = sandbox.message_send_from_customer(
                customer=customers[index % len(customers)],
                body=texts[index % len(texts)].format(n=1000 + index),
            )
            sent.append(message.id)
            time.sleep(1 / arguments.rate)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = InboundMessage.objects.filter(status="written").count()
            if done >= len(sent):
                break
            time.sleep(0.5)
    finally:
        worker.stop()
        server.stop()

    latencies = []
    for inbound in InboundMessage.objects.filter(kustomer_message_id__in=sent):
        note = Note.objects.filter(external_id=inbound.note_external_id).first()
        if note is not None:
            latencies.append((note.created_at - inbound.received_at) / timedelta(milliseconds=1))
    return {
        "machine": cpu_summary(),
        "messages": len(sent),
        "notes_written": len(latencies),
        "rate_per_second": arguments.rate,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "processes": f"gunicorn {arguments.web_workers}x4 threads, celery worker "
        f"prefork concurrency {arguments.worker_concurrency}",
    }


def burst(arguments) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="burst-"))
    server, worker, sandbox = start(
        arguments,
        org_limit=arguments.org_limit,
        customer_limit=arguments.customer_limit,
        workdir=workdir,
    )
    from django.utils import timezone

    from copilot.inbox.models import InboundMessage
    from copilot.sandbox.kustomer.models import KObject, Note, RequestLog

    try:
        customers = [
            sandbox.customer_create(
                name=f"Customer {index}", email=f"b{index}@example.com", emit_webhooks=False
            )
            for index in range(arguments.customers)
        ]
        conversations = [
            sandbox.conversation_create(customer=customer, name="Order question")
            for customer in customers
            for _ in range(5)
        ]
        warm_id = warm_up(sandbox, customers[0])
        burst_started_at = timezone.now()
        started = time.monotonic()
        for index in range(arguments.messages):
            sandbox.message_send_from_customer(
                conversation=conversations[index % len(conversations)],
                body=f"Where is my order #{5000 + index}? Nothing has arrived yet.",
            )
        print(
            f"sent {arguments.messages} messages in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        deadline = time.monotonic() + arguments.timeout
        while time.monotonic() < deadline:
            finished = InboundMessage.objects.filter(status__in=["written", "failed"]).count()
            print(f"{finished} finished", file=sys.stderr)
            if finished >= arguments.messages:
                break
            time.sleep(10)
    finally:
        worker.stop()
        server.stop()

    # Kustomer's budget counts every request, reads included.
    requests = list(
        RequestLog.objects.filter(path__startswith="/v1/", created_at__gte=burst_started_at)
        .order_by("created_at")
        .values_list("created_at", "status")
    )
    times = [created for created, status in requests]
    window = timedelta(seconds=60)
    most_in_window, first = 0, 0
    for end in range(len(times)):
        while times[end] - times[first] >= window:
            first += 1
        most_in_window = max(most_in_window, end - first + 1)
    kobject_ids = Counter(
        KObject.objects.exclude(external_id=warm_id).values_list("external_id", flat=True)
    )
    note_ids = Counter(
        Note.objects.exclude(external_id=f"copilot-note-{warm_id}").values_list(
            "external_id", flat=True
        )
    )
    accepted = [created for created, status in requests if status < 300]
    span_minutes = (accepted[-1] - accepted[0]).total_seconds() / 60 if accepted else 0
    # Requests answered in each whole minute from the first; the median minute is the steady
    # state (the first minutes also create the 5,000 messages, the last runs out of work).
    per_minute = Counter(int((created - accepted[0]).total_seconds() // 60) for created in accepted)
    whole_minutes = [per_minute[minute] for minute in range(int(span_minutes))]
    requests_total = len(requests)
    return {
        "machine": cpu_summary(),
        "messages": arguments.messages,
        "customers": arguments.customers,
        "limits": f"org {arguments.org_limit}/min, {arguments.customer_limit}/customer/min",
        "written": InboundMessage.objects.filter(status="written").count(),
        "failed": InboundMessage.objects.filter(status="failed").count(),
        "kobjects": sum(kobject_ids.values()),
        "kobjects_written_twice": sum(1 for count in kobject_ids.values() if count > 1),
        "notes": sum(note_ids.values()),
        "notes_written_twice": sum(1 for count in note_ids.values() if count > 1),
        "api_requests": requests_total,
        "responses_429": sum(1 for created, status in requests if status == 429),
        "most_requests_in_any_60s": most_in_window,
        "minutes": round(span_minutes, 2),
        "requests_per_whole_minute": whole_minutes,
        "median_minute": median(whole_minutes) if whole_minutes else 0,
        "throughput_per_minute": round(len(accepted) / span_minutes, 1) if span_minutes else 0,
        "throughput_share_of_limit": round(len(accepted) / span_minutes / arguments.org_limit, 3)
        if span_minutes
        else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["end-to-end", "burst"])
    parser.add_argument("--messages", type=int)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--org-limit", type=int, default=1000)
    parser.add_argument("--customer-limit", type=int, default=120)
    parser.add_argument("--timeout", type=int, default=1200)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    arguments = parser.parse_args()
    if arguments.mode == "end-to-end":
        arguments.messages = arguments.messages or 200
        result = end_to_end(arguments)
    else:
        arguments.messages = arguments.messages or 5000
        result = burst(arguments)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
