"""Shared plumbing of the benchmarks: a scratch PostgreSQL database and server processes.

Benchmarks need the real services: DATABASE_URL (PostgreSQL; a database named `copilot_bench`
on the same server is created and used) and REDIS_URL.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    # Two checkouts benchmarked side by side each need a scratch database of their own.
    name = os.environ.get("BENCH_DATABASE_NAME", "copilot_bench")
    parts = urlparse(base)
    admin = parts._replace(path="/postgres")
    import psycopg

    with psycopg.connect(
        urlunparse(admin).replace("postgres://", "postgresql://"), autocommit=True
    ) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return urlunparse(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "benchmark-secret-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOPIFY_TOKEN_ENCRYPTION_KEY": os.environ.get(
            "SHOPIFY_TOKEN_ENCRYPTION_KEY", "bD2o3oQ8m0nXy2Yl3Qy7yq9w1v2oZcJ3mJc8m4Zl6xA="
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "copilot.settings",
    }
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def gunicorn(env: dict[str, str], *, port: int, workers: int, threads: int, log: Path) -> Process:
    process = Process(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "copilot.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--backlog",
            "2048",
        ],
        env,
        log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"gunicorn did not start; see {log}")


def celery_worker(env: dict[str, str], *, concurrency: int, log: Path) -> Process:
    return Process(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "copilot",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--queues",
            "default",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        log,
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu_summary() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


def cpu_snapshot() -> dict[int, tuple[int, str, float]]:
    """Every live process: pid → (parent pid, command name, CPU seconds used so far).

    Read from /proc (Linux). Two snapshots around a run tell what each party (our server,
    PostgreSQL, Redis) spent per request, which stays meaningful on a noisy machine where
    wall-clock throughput does not.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue  # the process ended
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # ppid, utime and stime are fields 4, 14 and 15 of proc(5); fields[0] is field 3.
        processes[int(stat.parent.name)] = (
            int(fields[1]),
            name,
            (int(fields[11]) + int(fields[12])) / ticks,
        )
    return processes


def cpu_by_party(before: dict, after: dict, *, server_pid: int) -> dict[str, float]:
    """CPU seconds spent between two snapshots by the server's process tree, PostgreSQL, Redis."""

    def in_tree(pid: int) -> bool:
        while pid in after:
            if pid == server_pid:
                return True
            pid = after[pid][0]
        return False

    spent = {"server": 0.0, "postgresql": 0.0, "redis": 0.0}
    for pid, (_, name, seconds) in after.items():
        used = seconds - (before[pid][2] if pid in before and before[pid][1] == name else 0.0)
        if in_tree(pid):
            spent["server"] += used
        elif name.startswith("postgres"):
            spent["postgresql"] += used
        elif name.startswith("redis-server"):
            spent["redis"] += used
    return spent
