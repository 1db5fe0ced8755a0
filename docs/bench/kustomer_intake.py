"""Webhook intake: signed `kustomer.message.create` deliveries per second, and their latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python docs/bench/kustomer_intake.py --workers 3 --connections 8 --seconds 20

gunicorn serves the app on PostgreSQL and Redis (each delivery is verified, stored and its task
queued on Redis); wrk sends distinct signed deliveries as fast as they are answered. No Celery
worker runs, so the figure is the receiver's alone. Besides throughput and latency it reports the
CPU each party spent per delivery (our server, PostgreSQL, Redis, wrk), which a noisy machine
does not distort. Needs `wrk` (Debian package).
"""

import argparse
import hashlib
import hmac
import json
import re
import resource
import subprocess
import tempfile
import uuid
from pathlib import Path

from common import (
    bench_database_url,
    cpu_by_party,
    cpu_snapshot,
    cpu_summary,
    environment,
    free_port,
    gunicorn,
    manage,
)

SECRET = "bench-webhook-secret"


def delivery(index: int) -> tuple[str, str]:
    body = json.dumps(
        {
            "id": uuid.uuid4().hex[:24],
            "name": "kustomer.message.create",
            "org": "5f1e2d3c4b5a697887766554",
            "data": {
                "type": "message",
                "id": uuid.uuid4().hex[:24],
                "attributes": {
                    "channel": "email",
                    "direction": "in",
                    "preview": f"Hi, where is my order #{1000 + index}? It has not moved in days.",
                    "meta": {"subject": f"Order #{1000 + index}"},
                    "sentAt": "2026-11-24T15:02:11.000Z",
                },
                "relationships": {
                    "customer": {"data": {"type": "customer", "id": f"c{index % 50:023d}"}},
                    "conversation": {"data": {"type": "conversation", "id": f"v{index:023d}"}},
                },
            },
            "createdAt": "2026-11-24T15:02:12.118Z",
            "changes": None,
        },
        separators=(",", ":"),
    )
    signature = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    return body, signature


def lua_script(count: int) -> str:
    entries = []
    for index in range(count):
        body, signature = delivery(index)
        entries.append(f"{{{json.dumps(body)}, {json.dumps(signature)}}}")
    return (
        "local deliveries = {" + ",\n".join(entries) + "}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local d = deliveries[(n % #deliveries) + 1]\n"
        "  return wrk.format('POST', '/kustomer/webhooks/', {\n"
        "    ['Content-Type'] = 'application/json',\n"
        "    ['X-Kustomer-Webhook-Event'] = 'kustomer.message.create',\n"
        "    ['X-Kustomer-Webhook-Signature'] = d[2]}, d[1])\n"
        "end\n"
    )


def parse_wrk(output: str) -> dict:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%?\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": total,
        "requests_per_second": rate,
        "p50_ms": latency_ms("50"),
        "p99_ms": latency_ms("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    env = environment(
        DATABASE_URL=bench_database_url(), KUSTOMER_WEBHOOK_SECRET=SECRET, LOG_LEVEL="INFO"
    )
    manage(env, "migrate", "--no-input")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="intake-"))
    script = workdir / "deliveries.lua"
    # Enough distinct deliveries that none repeats within a run (a duplicate is cheaper).
    script.write_text(lua_script(arguments.seconds * 900))
    server = gunicorn(
        env,
        port=port,
        workers=arguments.workers,
        threads=arguments.threads,
        log=workdir / "gunicorn.log",
    )
    results = []
    try:
        for _ in range(arguments.runs):
            before = cpu_snapshot()
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            output = subprocess.run(
                [
                    "wrk",
                    "-t1",
                    f"-c{arguments.connections}",
                    f"-d{arguments.seconds}s",
                    "--latency",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = parse_wrk(output)
            spent = cpu_by_party(before, cpu_snapshot(), server_pid=server.process.pid)
            spent["wrk"] = (children_after.ru_utime + children_after.ru_stime) - (
                children_before.ru_utime + children_before.ru_stime
            )
            result["cpu_ms_per_delivery"] = {
                party: round(seconds * 1000 / result["requests"], 2)
                for party, seconds in spent.items()
            }
            results.append(result)
            # Fresh ids for the next run.
            script.write_text(lua_script(arguments.seconds * 900))
    finally:
        server.stop()
    results.sort(key=lambda result: result["requests_per_second"])
    median_run = results[len(results) // 2]
    print(
        json.dumps(
            {
                "machine": cpu_summary(),
                "server": f"gunicorn, {arguments.workers} workers x {arguments.threads} threads",
                "load": (
                    f"wrk, 1 thread, {arguments.connections} connections, {arguments.seconds} s"
                ),
                "runs": results,
                "median": median_run,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
