"""Benchmarks of issue 6: from classification to drafts stored.

    .venv/bin/python docs/bench/replies.py                   # full run (about 2 minutes)
    .venv/bin/python docs/bench/replies.py --quick           # smaller samples

What is timed is `drafts_generate_for_message(message_id=...)`, the one call the pipeline makes
right after classification, until the drafts are committed: the Kustomer reads (customer, recent
messages, shortcuts), the Shopify orders, the model call, grounding and the insert.

1. Model configured, the fake OpenAI-compatible server answering after 1 s
   (`SANDBOX_LLM_LATENCY_MS=1000`); target p95 <= 1.3 s.
2. No model configured (shortcuts and templates); target <= 20 ms.
3. The model failing at once (429) and hanging (timeout), for the time the fallback adds.

Each is measured warm (the customer's Kustomer record, the shortcuts and the Shopify orders
already cached, as for a customer's second message or once the card was opened) and cold
(nothing cached: every read goes over HTTP). Messages alternate between the eight demo
customers, four intents and four languages.

Everything runs on this machine: PostgreSQL (a scratch database `replies_bench` on the server of
DATABASE_URL, default postgres://postgres@127.0.0.1:5432, dropped and made again) and Redis
(REDIS_URL, default redis://127.0.0.1:6379/4 — that database is flushed). The fakes (Kustomer,
Shopify, the model) run in one gunicorn process; our code runs in this process, as it would in
a Celery worker.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from common import ROOT, cpu_summary, environment, free_port, gunicorn, manage, median, percentile

MESSAGES = [
    ("track_order", "Hi, where is my order? It still has not arrived."),
    ("get_refund", "I would like a refund for my last order, the sweater does not fit."),
    ("cancel_order", "Please cancel my order, I ordered the wrong colour by mistake."),
    ("track_order", "Hola, ¿dónde está mi pedido? Todavía no ha llegado."),
    ("return_or_exchange", "Bonjour, comment retourner ma commande ? La taille ne va pas."),
    ("track_order", "Hallo, wo ist meine Bestellung? Das Paket ist noch nicht da."),
]
COPILOT_ROLES = [
    "org.user.customer.read",
    "org.user.conversation.read",
    "org.user.message.read",
    "org.user.shortcut.read",
]


def scratch_database(base_url: str) -> str:
    import psycopg

    parts = urlparse(base_url)
    admin = urlunparse(parts._replace(path="/postgres")).replace("postgres://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS replies_bench WITH (FORCE)")
        connection.execute("CREATE DATABASE replies_bench")
    return urlunparse(parts._replace(path="/replies_bench"))


def start(workdir: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")
    env = environment(
        DATABASE_URL=scratch_database(
            os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        ),
        REDIS_URL=redis_url,
        COPILOT_SANDBOX="true",
        COPILOT_PUBLIC_URL=base,
        KUSTOMER_API_BASE_URL=f"{base}/sandbox/kustomer",
        SHOPIFY_SHOP_DOMAIN="",
        SHOPIFY_WEBHOOK_SECRET="bench-secret",
        OPENAI_BASE_URL=f"{base}/sandbox/llm/v1",
        OPENAI_API_KEY="sk-sandbox-bench-key",
        SANDBOX_LLM_API_KEYS="sk-sandbox-bench-key",
        SANDBOX_LLM_LATENCY_MS=os.environ.get("SANDBOX_LLM_LATENCY_MS", "1000"),
        SANDBOX_LLM_HANG_SECONDS="30",
        OPENAI_TIMEOUT_SECONDS="8",
        CELERY_TASK_ALWAYS_EAGER="true",
        LOG_LEVEL="WARNING",
    )
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    manage(env, "migrate", "--no-input")
    manage(env, "sandbox_kustomer_seed")
    manage(env, "sandbox_shopify_seed")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from copilot.sandbox.kustomer import services as fake_kustomer

    key = fake_kustomer.api_key_create(roles=COPILOT_ROLES, name="copilot").token
    os.environ["KUSTOMER_API_KEY"] = key
    from django.conf import settings

    settings.KUSTOMER_API_KEY = key
    server = gunicorn(env, port=port, workers=1, threads=16, log=workdir / "gunicorn.log")
    from copilot.commerce import services as commerce
    from copilot.sandbox.shopify.seed import DEMO_DOMAIN, DEMO_TOKEN

    commerce.store_connect(
        shop_domain=DEMO_DOMAIN,
        access_token=DEMO_TOKEN,
        name="Northwind Goods",
        api_base_url=f"{base}/sandbox/shopify",
        verify=False,
        register_webhooks=False,
    )
    return server, base


def classified_messages(count: int) -> list[int]:
    """`count` messages as the pipeline leaves them after classification."""
    import json

    from copilot.inbox.models import InboundMessage
    from copilot.sandbox.kustomer import services as fake_kustomer
    from copilot.sandbox.kustomer.models import Customer
    from intents.models import ModelVersion, Prediction
    from intents.services import intents_ensure

    definitions = json.loads((ROOT / "intents/fixtures/demo_intents.json").read_text())
    intents_ensure(definitions=[(item["name"], item["description"]) for item in definitions])
    version, _ = ModelVersion.objects.get_or_create(number=1, defaults={"status": "active"})
    customers = list(Customer.objects.order_by("created_at"))
    ids = []
    for index in range(count):
        intent, text = MESSAGES[index % len(MESSAGES)]
        customer = customers[index % len(customers)]
        conversation = fake_kustomer.conversation_create(
            customer=customer, name="Question", emit_webhooks=False
        )
        sent = fake_kustomer.message_create(
            conversation=conversation, direction="in", body=text, emit_webhooks=False
        )
        prediction = Prediction.objects.create(
            text=text,
            kustomer_message_id=sent.id,
            kustomer_conversation_id=sent.conversation_id,
            model_version=version,
            intent=intent,
            confidence=0.9,
            top=[[intent, 0.9]],
            latency_ms=1.0,
        )
        ids.append(
            InboundMessage.objects.create(
                kustomer_message_id=sent.id,
                conversation_id=sent.conversation_id,
                customer_id=customer.id,
                text=text,
                prediction=prediction,
                status=InboundMessage.Status.CLASSIFIED,
            ).id
        )
    return ids


def scenario(base: str, name: str) -> None:
    import httpx

    httpx.post(f"{base}/sandbox/llm/_control/scenario", json={"scenario": name}, timeout=5)


class VendorClock:
    """Time spent in Kustomer and Shopify requests on the calling thread.

    The customer read and then the orders read (which needs the customer's email) run on the
    calling thread, one after the other: that chain is what a cold generation waits for. The
    shortcuts are read beside it on another thread and are not counted, so whatever the chain
    waits for them stays in "ours".
    """

    def __init__(self) -> None:
        import threading

        import httpx

        self.caller = threading.get_ident()
        self.milliseconds = 0.0
        send = httpx.Client.send
        clock = self

        def timed_send(client, request, **kwargs):
            started = time.perf_counter()
            try:
                return send(client, request, **kwargs)
            finally:
                path = request.url.path
                vendor = path.startswith(("/sandbox/kustomer/", "/sandbox/shopify/"))
                if vendor and threading.get_ident() == clock.caller:
                    clock.milliseconds += (time.perf_counter() - started) * 1000

        httpx.Client.send = timed_send


def timed(
    message_ids: list[int], *, cold: bool, clock: VendorClock
) -> tuple[list[float], list[float], list[str], list[float]]:
    """Time of each generation, the part of it spent waiting for the model, first sources, and
    the part spent waiting for Kustomer and Shopify on the calling thread."""
    from django.core.cache import cache

    from copilot.replies.services import drafts_generate_for_message

    durations, waits, sources, vendor = [], [], [], []
    for message_id in message_ids:
        if cold:
            cache.clear()
        clock.milliseconds = 0.0
        started = time.perf_counter()
        drafts = drafts_generate_for_message(message_id=message_id)
        durations.append((time.perf_counter() - started) * 1000)
        waits.append(drafts[0].latency_ms or 0.0 if drafts else 0.0)
        sources.append(drafts[0].source if drafts else "none")
        vendor.append(clock.milliseconds)
    return durations, waits, sources, vendor


def summary(
    label: str,
    durations: list[float],
    waits: list[float],
    sources: list[str],
    vendor: list[float],
) -> dict:
    from collections import Counter

    ours = [
        total - wait - reads for total, wait, reads in zip(durations, waits, vendor, strict=True)
    ]
    row = {
        "case": label,
        "n": len(durations),
        "median_ms": round(median(durations), 1),
        "p95_ms": round(percentile(durations, 0.95), 1),
        "max_ms": round(max(durations), 1),
        "model_wait_median_ms": round(median(waits), 1),
        "vendor_wait_median_ms": round(median(vendor), 1),
        "ours_median_ms": round(median(ours), 1),
        "ours_p95_ms": round(percentile(ours, 0.95), 1),
        "first_draft_sources": dict(Counter(sources)),
    }
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    parser.add_argument("--out", default="", help="write a markdown table here too")
    arguments = parser.parse_args()
    model_runs, fallback_runs = (12, 60) if arguments.quick else (40, 300)

    workdir = Path(tempfile.mkdtemp(prefix="replies-bench-"))
    server, base = start(workdir)
    rows = []
    try:
        from django.test import override_settings

        from copilot.integrations.llm import forget_clients

        clock = VendorClock()

        def warm(label: str, count: int) -> None:
            # One untimed message per customer first: each one's Kustomer record and orders
            # (and the shortcuts) are then cached, as for a customer's second message.
            timed(classified_messages(8), cold=False, clock=clock)
            rows.append(summary(label, *timed(classified_messages(count), cold=False, clock=clock)))

        def cold(label: str, count: int) -> None:
            rows.append(summary(label, *timed(classified_messages(count), cold=True, clock=clock)))

        scenario(base, "grounded")
        warm("model 1 s, warm", model_runs)
        cold("model 1 s, cold", model_runs // 2)
        with override_settings(OPENAI_BASE_URL=""):
            forget_clients()
            warm("no model, warm", fallback_runs)
            cold("no model, cold", fallback_runs // 5)
        scenario(base, "rate_limited")
        warm("model 429 → fallback, warm", model_runs)
        with override_settings(OPENAI_TIMEOUT_SECONDS=2.0):
            forget_clients()
            scenario(base, "timeout")
            warm("model hangs, timeout 2 s → fallback", 3)
        scenario(base, "grounded")
    finally:
        server.stop()

    lines = [
        f"Machine: {cpu_summary()}. PostgreSQL and Redis local; fakes in one gunicorn process "
        "(1 worker, 16 threads); our code in the benchmark process.",
        "",
        "| case | n | median | p95 | max | waiting for the model (median) | waiting for Kustomer "
        "then Shopify (median) | ours (median / p95) | first draft from |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        sources = ", ".join(f"{key} {value}" for key, value in row["first_draft_sources"].items())
        lines.append(
            f"| {row['case']} | {row['n']} | {row['median_ms']} ms | {row['p95_ms']} ms | "
            f"{row['max_ms']} ms | {row['model_wait_median_ms']} ms | "
            f"{row['vendor_wait_median_ms']} ms | {row['ours_median_ms']} / "
            f"{row['ours_p95_ms']} ms | {sources} |"
        )
    report = "\n".join(lines)
    print(report)
    if arguments.out:
        Path(arguments.out).write_text(report + "\n")


if __name__ == "__main__":
    main()
