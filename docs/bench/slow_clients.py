"""Webhook intake while a few clients send slowly, and while Redis hangs: normal traffic's latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python docs/bench/slow_clients.py --runs 3

Two web setups take turns in each run, on the same code, PostgreSQL database (`bench_slow`,
created again) and Redis (a redis-server of the benchmark's own, which it stops): `sync`, the
previous setup (`gunicorn copilot.wsgi --workers 2`), and `config`, the production settings
(`gunicorn -c python:copilot.gunicorn copilot.wsgi`). Against each, two phases:

- slow clients: two connections send a webhook's headers, then its body a byte a second for
  `--slow-seconds`, then give up; meanwhile a sender posts signed `kustomer.message.create`
  deliveries at `--rate` a second, each on a connection of its own.
- Redis hangs: the same sender, while redis-server is stopped (SIGSTOP) for `--hang-seconds`.

Latency is counted from the moment a delivery was due, so deliveries held back by a blocked
server count in full. Reports p50, p99 and max of the normal traffic, its errors (any answer
but 200, or none within 60 s), and the deliveries stored but left to the sweep (their task
could not be queued). No Celery worker runs: the figures are the receiver's alone. Needs the
`redis-server` program.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
from common import PYTHON, Process, cpu_summary, environment, free_port, manage, median, percentile
from kustomer_intake import SECRET, delivery

DATABASE = "bench_slow"
PATH = "/kustomer/webhooks/"
SETUPS = {
    # Without a control socket: gunicorn's default one is shared by every gunicorn of the user.
    "sync": ["copilot.wsgi", "--workers", "2", "--no-control-socket"],
    "config": ["-c", "python:copilot.gunicorn", "copilot.wsgi"],
}


def database_url() -> str:
    """A fresh `bench_slow` database on the server of DATABASE_URL."""
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    admin = urlunparse(base._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return urlunparse(base._replace(path=f"/{DATABASE}"))


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=(workdir / "redis.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_for(attempt, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            attempt()
            return
        except (OSError, httpx.HTTPError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def web_server(setup: str, env: dict[str, str], *, port: int, log: Path) -> Process:
    bind = ["--bind", f"127.0.0.1:{port}"] if setup == "sync" else []
    server = Process(
        [PYTHON, "-m", "gunicorn", *SETUPS[setup], *bind], env | {"PORT": str(port)}, log
    )

    def healthy() -> None:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()

    wait_for(healthy)
    return server


@dataclass
class Answer:
    latency: float
    ok: bool


class Sender:
    """Signed deliveries, each on a new connection, at a steady rate whatever the answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.index = 0  # each delivery has ids of its own (see `delivery`), so none is a duplicate

    def post(self, index: int, due: float) -> Answer:
        body, signature = delivery(index)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                "POST",
                PATH,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Kustomer-Webhook-Event": "kustomer.message.create",
                    "X-Kustomer-Webhook-Signature": signature,
                },
            )
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        return Answer(time.monotonic() - due, ok)

    def run(self, *, rate: float, seconds: float) -> list[Answer]:
        count = round(rate * seconds)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=256) as pool:
            futures = []
            for number in range(count):
                due = started + number / rate
                time.sleep(max(0.0, due - time.monotonic()))
                self.index += 1
                futures.append(pool.submit(self.post, self.index, due))
            return [future.result() for future in futures]


def slow_client(port: int, stop: threading.Event) -> None:
    """A webhook whose headers come at once and whose body comes a byte a second, until `stop`."""
    body, signature = delivery(10_000_000 + port)
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Kustomer-Webhook-Event: kustomer.message.create\r\n"
        f"X-Kustomer-Webhook-Signature: {signature}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head.encode())
        for byte in body.encode():
            if stop.wait(1.0):
                break
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break


def summary(answers: list[Answer]) -> dict:
    latencies = [answer.latency * 1000 for answer in answers]
    return {
        "requests": len(answers),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "errors": sum(not answer.ok for answer in answers),
    }


def left_to_sweep(url: str) -> int:
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
        row = connection.execute(
            "SELECT count(*) FROM inbox_inboundmessage WHERE needs_queueing"
        ).fetchone()
    return row[0]


def with_slow_clients(port: int, sender: Sender, *, rate: float, seconds: float) -> dict:
    stop = threading.Event()
    clients = [threading.Thread(target=slow_client, args=(port, stop)) for _ in range(2)]
    for client in clients:
        client.start()
    time.sleep(1.0)  # both hold their connection before the normal traffic starts
    # They give up after `seconds` whether the normal traffic was answered or not.
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    answers = sender.run(rate=rate, seconds=seconds)
    timer.join()
    for client in clients:
        client.join()
    return summary(answers)


def with_redis_hung(
    port: int, sender: Sender, redis_server: RedisServer, *, rate: float, seconds: float, url: str
) -> dict:
    before = left_to_sweep(url)
    timer = threading.Timer(2.0, redis_server.process.send_signal, args=(signal.SIGSTOP,))
    resume = threading.Timer(2.0 + seconds, redis_server.process.send_signal, (signal.SIGCONT,))
    timer.start()
    resume.start()
    try:
        answers = sender.run(rate=rate, seconds=seconds + 4.0)
    finally:
        timer.cancel()
        resume.cancel()
        redis_server.process.send_signal(signal.SIGCONT)
    return summary(answers) | {"left_to_sweep": left_to_sweep(url) - before}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="normal deliveries a second")
    parser.add_argument("--slow-seconds", type=float, default=20.0)
    parser.add_argument("--hang-seconds", type=float, default=10.0)
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    redis_server = RedisServer(workdir)
    url = database_url()
    env = environment(
        DATABASE_URL=url,
        REDIS_URL=redis_server.url,
        KUSTOMER_WEBHOOK_SECRET=SECRET,
        LOG_LEVEL="INFO",
    )
    results: dict[str, list[dict]] = {
        f"{setup} {phase}": [] for setup in SETUPS for phase in ("slow", "hang")
    }
    try:
        manage(env, "migrate", "--no-input")
        for run in range(arguments.runs):
            for setup in SETUPS:
                port = free_port()
                server = web_server(setup, env, port=port, log=workdir / f"{setup}-{run}.log")
                try:
                    sender = Sender(port)
                    sender.run(rate=arguments.rate, seconds=1.0)  # warm-up
                    slow = with_slow_clients(
                        port, sender, rate=arguments.rate, seconds=arguments.slow_seconds
                    )
                    time.sleep(2.0)
                    hang = with_redis_hung(
                        port,
                        sender,
                        redis_server,
                        rate=arguments.rate,
                        seconds=arguments.hang_seconds,
                        url=url,
                    )
                finally:
                    server.stop()
                results[f"{setup} slow"].append(slow)
                results[f"{setup} hang"].append(hang)
                print(json.dumps({"run": run, "setup": setup, "slow": slow, "hang": hang}))
    finally:
        redis_server.stop()

    medians = {
        name: {key: median([run[key] for run in runs]) for key in runs[0]}
        for name, runs in results.items()
    }
    print(
        json.dumps(
            {
                "machine": cpu_summary(),
                "load": (
                    f"{arguments.rate:g} signed deliveries/s on new connections; 2 slow "
                    f"clients for {arguments.slow_seconds:g} s; Redis stopped for "
                    f"{arguments.hang_seconds:g} s"
                ),
                "runs": results,
                "median": medians,
            },
            indent=2,
        )
    )
    print()
    print("| setup | phase | p50 ms | p99 ms | max ms | errors | left to the sweep |")
    print("|---|---|---|---|---|---|---|")
    for name, values in medians.items():
        setup, phase = name.split()
        print(
            f"| {setup} | {phase} | {values['p50_ms']:g} | {values['p99_ms']:g} | "
            f"{values['max_ms']:g} | {values['errors']:g} | {values.get('left_to_sweep', '')} |"
        )
    print(f"\n(medians of {arguments.runs} runs; logs in {workdir})")


if __name__ == "__main__":
    main()
