"""Recovery from a fault in the middle of a burst of customer messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/python docs/bench/recovery.py --messages 50 --runs 4

Each run starts a whole stack afresh: its own `redis-server` on a free port (broker and cache),
gunicorn (2 workers x 4 threads) serving the app and the fake Kustomer (COPILOT_SANDBOX), one
`celery -A copilot worker --queues default,training --without-gossip --without-mingle` (as
README's production section runs it) and one `celery -A copilot beat`, all on a scratch
database `bench_recovery` (or BENCH_DATABASE_NAME) on DATABASE_URL's server (created at start,
dropped at the end; the demo intent model is trained once). One warm-up message goes through the
whole pipeline; then the fake Kustomer's control API creates `--messages` customer messages at
`--rate` per second, each delivered as a signed webhook to /kustomer/webhooks/, and half-way
through one fault strikes:

- worker: the worker and its pool children (its process group) are killed with SIGKILL;
- redis: Redis is killed with SIGKILL and started again, empty, on the same port,
  `--restart-delay` seconds later;
- postgres: every connection to the benchmark's database is ended with pg_terminate_backend.
  PostgreSQL itself is not restarted: other work on the machine shares it.

Worker and beat run under a supervisor that starts again, `--restart-delay` seconds later, any
that exits (as `Restart=always` does in docs/deploy/systemd/); in the worker scenario that is
how the new worker starts. "Service back" is when the new worker was started, Redis answered
again, or the connections were ended. Recovery is the time from then until the last accepted
message (its webhook answered 200) has status `written` and its KObject and note exist in the
fake Kustomer. A run gives up `--timeout` seconds after service back. Logs stay in the printed
directory.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
from common import (
    PYTHON,
    ROOT,
    Process,
    cpu_summary,
    environment,
    free_port,
    gunicorn,
    manage,
    median,
)

# BENCH_DATABASE_NAME lets two checkouts run side by side (pg_terminate_backend ends only its own).
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "bench_recovery")
SCENARIOS = {
    "worker": "worker killed (SIGKILL to its process group)",
    "redis": "Redis killed, started again empty",
    "postgres": "connections to the database ended (pg_terminate_backend)",
}
TEXTS = [
    "Where is my order #{n}? The tracking has not moved for a week.",
    "Please cancel order {n}, I ordered the wrong size.",
    "I want a refund for order {n}, the lamp arrived broken.",
    "Can I change the shipping address on order {n}? I moved last week.",
]
CONTROL = "/sandbox/kustomer/_control"
# The fake Kustomer sends each webhook from a thread of the web process that reads its delivery
# row first; when ending the database's connections makes that read fail, the delivery stays
# pending and is never tried (a real Kustomer does not share our database). One still pending
# this long after it was created is counted as lost by the fake, not waited for.
STALLED_AFTER = timedelta(seconds=30)


def postgres_urls() -> tuple[str, str]:
    """The scratch database's URL for the app, and a psycopg URL of the server's `postgres`
    database for administration."""
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    admin = urlunparse(base._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    return urlunparse(base._replace(path=f"/{DATABASE}")), admin


def database_create(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def database_drop(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def database_connections_end(admin_url: str) -> int:
    """Ends every connection to the scratch database; returns how many were ended."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


def log_excerpt(path: Path, lines: int = 12) -> list[str]:
    """The log's CRITICAL lines, then its last `lines` lines."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    critical = [line for line in text[:-lines] if " CRITICAL " in line]
    return [*critical, "...", *text[-lines:]] if critical else text[-lines:]


class RedisServer:
    """A redis-server of our own that saves nothing, so a restart starts empty."""

    def __init__(self, *, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.starts = 0
        self.process: Process | None = None

    def start(self) -> None:
        import redis

        self.starts += 1
        self.process = Process(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            dict(os.environ),
            self.workdir / f"redis-{self.starts}.log",
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        os.killpg(self.process.process.pid, signal.SIGKILL)
        self.process.process.wait()
        self.process.log.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Exit:
    at: float
    code: int
    log: Path


class Supervised:
    """A process started again `delay` seconds after it exits, as systemd's Restart=always."""

    def __init__(self, name: str, args: list[str], env: dict, workdir: Path, delay: float):
        self.name = name
        self.args = args
        self.env = env
        self.workdir = workdir
        self.delay = delay
        self.starts: list[float] = []
        self.exits: list[Exit] = []
        self.stopping = threading.Event()
        self._start()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}-{len(self.starts)}.log"

    def _start(self) -> None:
        self.starts.append(time.time())
        self.process = Process(
            self.args, self.env, self.workdir / f"{self.name}-{len(self.starts)}.log"
        )

    def _watch(self) -> None:
        while not self.stopping.is_set():
            code = self.process.process.poll()
            if code is not None:
                self.process.log.close()
                self.exits.append(Exit(at=time.time(), code=code, log=self.log))
                if self.stopping.wait(self.delay):
                    return
                self._start()
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to the process and its children (the process group)."""
        os.killpg(self.process.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.stopping.set()
        self.watcher.join()
        self.process.stop()


@dataclass
class Sent:
    index: int
    status: int | None
    message_id: str | None
    error: str = ""


@dataclass
class Run:
    scenario: str
    number: int
    workdir: Path
    sent: list[Sent] = field(default_factory=list)
    fault_at: float = 0.0
    back_at: float = 0.0
    note: str = ""
    unfinished_at_fault: int = 0
    leased_at_fault: int = 0
    result: dict = field(default_factory=dict)


class Stack:
    """Redis, gunicorn, a worker and beat for one run."""

    def __init__(self, env: dict, *, web_port: int, redis_port: int, workdir: Path, delay: float):
        self.base_url = f"http://127.0.0.1:{web_port}"
        self.redis = RedisServer(port=redis_port, workdir=workdir)
        self.redis.start()
        try:
            self.web = gunicorn(env, port=web_port, workers=2, threads=4, log=workdir / "web.log")
        except RuntimeError:
            self.redis.stop()
            raise
        celery = [PYTHON, "-m", "celery", "-A", "copilot"]
        process_env = {**env, "LOG_LEVEL": "INFO"}
        self.worker = Supervised(
            "worker",
            # As README and docs/deploy/systemd run it.
            [
                *celery,
                "worker",
                "--queues",
                "default,training",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            process_env,
            workdir,
            delay,
        )
        self.beat = Supervised(
            "beat",
            [
                *celery,
                "beat",
                "--schedule",
                str(workdir / "celerybeat-schedule"),
                "--loglevel",
                "INFO",
            ],
            process_env,
            workdir,
            delay,
        )

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()
        self.web.stop()
        self.redis.stop()


def control(client: httpx.Client, path: str, **body) -> dict:
    response = client.post(f"{CONTROL}/{path}", json=body)
    response.raise_for_status()
    return response.json()


def read(query):
    """Runs `query()` on the benchmark's own connection, opening a new one if a fault ended it."""
    from django.db import DatabaseError, connections

    for attempt in range(3):
        try:
            return query()
        except DatabaseError:
            connections.close_all()
            if attempt == 2:
                raise
            time.sleep(0.2)
    return None


def warm_up(client: httpx.Client, customer_id: str, *, timeout: float = 180) -> None:
    """One message through the whole pipeline, so the worker is up before the burst."""
    from copilot.inbox.models import InboundMessage

    message_id = control(client, "messages", customerId=customer_id, body="warm-up: hello")[
        "messageId"
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read(
            lambda: InboundMessage.objects.filter(
                kustomer_message_id=message_id, status=InboundMessage.Status.WRITTEN
            ).exists()
        ):
            return
        time.sleep(0.2)
    raise RuntimeError("the warm-up message was not written back in time")


def send_burst(
    base_url: str, customers: list[str], run: Run, *, count: int, rate: float, half: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        started = time.monotonic()
        for index in range(count):
            try:
                response = client.post(
                    f"{CONTROL}/messages",
                    json={
                        "customerId": customers[index % len(customers)],
                        "body": TEXTS[index % len(TEXTS)].format(n=1000 + index),
                    },
                )
                message_id = response.json().get("messageId") if response.is_success else None
                run.sent.append(Sent(index, response.status_code, message_id))
            except (httpx.HTTPError, ValueError) as error:
                run.sent.append(Sent(index, None, None, f"{type(error).__name__}: {error}"))
            if index + 1 == count // 2:
                half.set()
            pause = started + (index + 1) / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    half.set()


def snapshot_at_fault(run: Run, message_ids: list[str]) -> None:
    from django.utils import timezone

    from copilot.inbox.models import InboundMessage

    unfinished = InboundMessage.objects.filter(
        kustomer_message_id__in=message_ids,
        status__in=[InboundMessage.Status.RECEIVED, InboundMessage.Status.CLASSIFIED],
    )
    run.unfinished_at_fault = read(unfinished.count)
    run.leased_at_fault = read(unfinished.filter(lease_until__gt=timezone.now()).count)


def inject(run: Run, stack: Stack, *, admin_url: str, delay: float) -> None:
    run.fault_at = time.time()
    if run.scenario == "worker":
        starts = len(stack.worker.starts)
        stack.worker.kill()
        while len(stack.worker.starts) == starts:
            time.sleep(0.02)
        run.back_at = stack.worker.starts[-1]
    elif run.scenario == "redis":
        stack.redis.kill()
        time.sleep(delay)
        stack.redis.start()
        run.back_at = time.time()
    else:
        ended = database_connections_end(admin_url)
        run.back_at = time.time()
        run.note = f"{ended} connections ended"


def progress(message_ids: list[str], started_at: datetime) -> dict:
    """Where this run's messages are: their webhook deliveries, rows and write-back."""
    from django.utils import timezone

    from copilot.inbox.models import InboundMessage
    from copilot.sandbox.kustomer.models import KObject, Note, RequestLog, WebhookDelivery

    wanted = set(message_ids)
    deliveries = {}
    stalled_before = timezone.now() - STALLED_AFTER
    for payload, status, attempts, created_at in WebhookDelivery.objects.filter(
        event_name="kustomer.message.create", created_at__gte=started_at
    ).values_list("payload", "status", "attempts", "created_at"):
        message_id = json.loads(payload)["data"]["id"]
        if message_id in wanted:
            if status == "pending" and created_at < stalled_before:
                status = "lost"
            deliveries[message_id] = (status, attempts)
    accepted = [id_ for id_, (status, _) in deliveries.items() if status == "delivered"]
    rows = {
        row["kustomer_message_id"]: row
        for row in InboundMessage.objects.filter(kustomer_message_id__in=accepted).values(
            "kustomer_message_id", "status", "written_at", "failure_reason"
        )
    }
    kobjects = Counter()
    kobject_times = {}
    for external_id, created_at in KObject.objects.filter(external_id__in=accepted).values_list(
        "external_id", "created_at"
    ):
        kobjects[external_id] += 1
        kobject_times[external_id] = max(created_at, kobject_times.get(external_id, created_at))
    # Each message opened its own conversation, so any second note there is a duplicate.
    conversation_of = dict(
        InboundMessage.objects.filter(kustomer_message_id__in=accepted).values_list(
            "conversation_id", "kustomer_message_id"
        )
    )
    notes = Counter()
    note_times = {}
    for conversation_id, created_at in Note.objects.filter(
        conversation_id__in=conversation_of
    ).values_list("conversation_id", "created_at"):
        message_id = conversation_of[conversation_id]
        notes[message_id] += 1
        note_times[message_id] = max(created_at, note_times.get(message_id, created_at))
    complete = {
        id_: max(rows[id_]["written_at"], kobject_times[id_], note_times[id_])
        for id_ in accepted
        if id_ in rows
        and rows[id_]["status"] == InboundMessage.Status.WRITTEN
        and kobjects[id_]
        and notes[id_]
    }
    failed = [row for row in rows.values() if row["status"] == InboundMessage.Status.FAILED]
    refused_again = RequestLog.objects.filter(
        created_at__gte=started_at, method="POST", status=400
    ).filter(path__regex=r"/(notes|klasses/[^/]+)$")
    return {
        "deliveries": deliveries,
        "accepted": accepted,
        "settled": all(
            status in ("delivered", "failed", "lost") for status, _ in deliveries.values()
        )
        and len(deliveries) == len(wanted),
        "complete": complete,
        "failed": failed,
        "kobjects_twice": sum(1 for count in kobjects.values() if count > 1),
        "notes_twice": sum(1 for count in notes.values() if count > 1),
        "creates_refused_as_duplicates": refused_again.count(),
    }


def one_run(run: Run, arguments, env: dict, ports: dict, customers: list[str], admin_url: str):
    from django.utils import timezone

    stack = Stack(
        env,
        web_port=ports["web"],
        redis_port=ports["redis"],
        workdir=run.workdir,
        delay=arguments.restart_delay,
    )
    try:
        # Registers our webhook in the fake Kustomer; it needs the web process up, and later
        # runs change nothing.
        manage(env, "kustomer_setup")
        with httpx.Client(base_url=stack.base_url, timeout=30) as client:
            warm_up(client, customers[0])
        started_at = timezone.now()
        half = threading.Event()
        sender = threading.Thread(
            target=send_burst,
            args=(stack.base_url, customers, run),
            kwargs={"count": arguments.messages, "rate": arguments.rate, "half": half},
        )
        sender.start()
        half.wait()
        snapshot_at_fault(run, [sent.message_id for sent in run.sent if sent.message_id])
        inject(run, stack, admin_url=admin_url, delay=arguments.restart_delay)
        sender.join()
        message_ids = [sent.message_id for sent in run.sent if sent.message_id]
        deadline = run.back_at + arguments.timeout
        while True:
            state = read(lambda: progress(message_ids, started_at))
            finished = len(state["complete"]) + len(state["failed"])
            if state["settled"] and finished >= len(state["accepted"]):
                break
            if time.time() > deadline:
                break
            time.sleep(1)
        run.result = summarise(run, stack, state, message_ids)
    finally:
        stack.stop()
    return run


def summarise(run: Run, stack: Stack, state: dict, message_ids: list[str]) -> dict:
    back = datetime.fromtimestamp(run.back_at, tz=UTC)
    complete = state["complete"]
    accepted = state["accepted"]
    unfinished = [id_ for id_ in accepted if id_ not in complete]
    last = max(complete.values()) if complete else None
    late = sorted(
        round((at - back).total_seconds(), 1)
        for at in complete.values()
        if (at - back).total_seconds() > 20
    )
    delivery_attempts = [
        attempts for status, attempts in state["deliveries"].values() if status == "delivered"
    ]
    worker_exits = [
        exit_ for exit_ in stack.worker.exits if not (run.scenario == "worker" and exit_.code == -9)
    ]
    return {
        "created": len(message_ids),
        "create_errors": [sent.error or sent.status for sent in run.sent if not sent.message_id],
        "accepted": len(accepted),
        "delivered_after_retry": sum(1 for attempts in delivery_attempts if attempts > 1),
        "not_delivered": len(message_ids) - len(accepted),
        "lost_by_the_fake": sum(
            1 for status, _ in state["deliveries"].values() if status == "lost"
        ),
        "written": len(complete),
        "failed": [row["failure_reason"] for row in state["failed"]],
        "recovery_seconds": round((last - back).total_seconds(), 1)
        if last and not unfinished
        else None,
        "unfinished": len(unfinished),
        "written_more_than_20s_after_back": late,
        "kobjects_twice": state["kobjects_twice"],
        "notes_twice": state["notes_twice"],
        "creates_refused_as_duplicates": state["creates_refused_as_duplicates"],
        "worker_exits": [
            {
                "code": exit_.code,
                "after_fault_s": round(exit_.at - run.fault_at, 1),
                "log": str(exit_.log),
            }
            for exit_ in worker_exits
        ],
        "worker_starts": len(stack.worker.starts),
        "beat_exits": len(stack.beat.exits),
    }


def survived(run: Run) -> str:
    exits = run.result["worker_exits"]
    if run.scenario == "worker":
        return "killed; new one ran" + (f", then {len(exits)} exit(s)" if exits else "")
    if not exits:
        return "yes"
    return f"no: exited {exits[0]['after_fault_s']} s after the fault (code {exits[0]['code']})"


def table(runs: list[Run]) -> str:
    lines = [
        "| fault | run | created | accepted (webhook 200) | not delivered (lost by the fake) | "
        "delivered on a retry | unfinished "
        "at fault (leased) | written | failed | **recovery s** | written > 20 s after service "
        "back | second KObject / note | creates refused as duplicates | worker survived | "
        "beat exits |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        result = run.result
        recovery = result["recovery_seconds"]
        shown = (
            f"{recovery}" if recovery is not None else f"> timeout ({result['unfinished']} left)"
        )
        lines.append(
            f"| {run.scenario}{f' ({run.note})' if run.note else ''} | {run.number} | "
            f"{result['created']} | {result['accepted']} | "
            f"{result['not_delivered']} ({result['lost_by_the_fake']}) | "
            f"{result['delivered_after_retry']} | {run.unfinished_at_fault} "
            f"({run.leased_at_fault}) | {result['written']} | {len(result['failed'])} | "
            f"**{shown}** | {len(result['written_more_than_20s_after_back'])} | "
            f"{result['kobjects_twice']} / {result['notes_twice']} | "
            f"{result['creates_refused_as_duplicates']} | {survived(run)} | "
            f"{result['beat_exits']} |"
        )
    return "\n".join(lines)


def summary(runs: list[Run]) -> str:
    lines = [
        "| fault | runs | recovery s, median (all runs) | all accepted written | "
        "second KObject / note |",
        "|---|---|---|---|---|",
    ]
    for scenario, label in SCENARIOS.items():
        mine = [run for run in runs if run.scenario == scenario]
        if not mine:
            continue
        times = [run.result["recovery_seconds"] for run in mine]
        known = [value for value in times if value is not None]
        shown = " / ".join("timeout" if value is None else f"{value}" for value in times)
        middle = f"**{median(known)}**" if len(known) == len(times) else "**not all recovered**"
        written = sum(run.result["written"] for run in mine)
        accepted = sum(run.result["accepted"] for run in mine)
        twice = sum(run.result["kobjects_twice"] for run in mine)
        notes_twice = sum(run.result["notes_twice"] for run in mine)
        lines.append(
            f"| {label} | {len(mine)} | {middle} ({shown}) | {written} of {accepted} | "
            f"{twice} / {notes_twice} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--runs", type=int, default=1, help="runs of each scenario")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--restart-delay", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep-database", action="store_true")
    arguments = parser.parse_args()
    scenarios = arguments.scenarios.split(",")
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    workdir = Path(tempfile.mkdtemp(prefix="recovery-"))
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    database_url, admin_url = postgres_urls()
    database_create(admin_url)
    ports = {"web": free_port(), "redis": free_port()}
    env = environment(
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{ports['redis']}/0",
        COPILOT_SANDBOX="true",
        COPILOT_PUBLIC_URL=f"http://127.0.0.1:{ports['web']}",
        KUSTOMER_API_BASE_URL=f"http://127.0.0.1:{ports['web']}/sandbox/kustomer",
        KUSTOMER_NOTES="always",
        LOG_LEVEL="WARNING",
    )
    os.environ.update(env)
    print(f"logs in {workdir}", file=sys.stderr)
    runs: list[Run] = []
    try:
        manage(env, "migrate", "--no-input")
        manage(env, "intents_import", "intents/fixtures/demo_intents.csv")
        manage(env, "intents_train", "--activate")
        sys.path.insert(0, str(ROOT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "copilot.settings"
        import django

        django.setup()
        from copilot.sandbox.kustomer import services as sandbox

        env["KUSTOMER_API_KEY"] = sandbox.api_key_create(roles=["org.admin"], name="bench").token
        customers = [
            sandbox.customer_create(
                name=f"Customer {index}", email=f"r{index}@example.com", emit_webhooks=False
            ).id
            for index in range(10)
        ]
        for number in range(1, arguments.runs + 1):
            for scenario in scenarios:
                run = Run(scenario, number, workdir / f"{scenario}-{number}")
                run.workdir.mkdir()
                print(f"{scenario} run {number} ...", file=sys.stderr)
                one_run(run, arguments, env, ports, customers, admin_url)
                runs.append(run)
                print(
                    json.dumps({"scenario": scenario, "run": number, **run.result}), file=sys.stderr
                )
    finally:
        from django.db import connections

        connections.close_all()
        if not arguments.keep_database:
            database_drop(admin_url)

    nproc = len(os.sched_getaffinity(0))
    print(f"Machine: {cpu_summary()}, nproc {nproc}, load average {load} at start.")
    print(f"Command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("postgres: PostgreSQL is shared on this machine, so it was not restarted: every")
    print(f"connection to the database {DATABASE} was ended with pg_terminate_backend instead.")
    print("A webhook the fake Kustomer lost (its sending thread shares that database) is not")
    print("counted as accepted.")
    print()
    print(summary(runs))
    print()
    print(table(runs))
    for run in runs:
        for exit_ in run.result["worker_exits"]:
            print(f"\nworker exit in {run.scenario} run {run.number} (code {exit_['code']}):")
            print("\n".join(f"    {line}" for line in log_excerpt(Path(exit_["log"]))))
        if run.result["failed"]:
            print(f"\nfailed in {run.scenario} run {run.number}: {run.result['failed']}")
        if run.result["create_errors"]:
            print(
                f"\nnot created in {run.scenario} run {run.number}: {run.result['create_errors']}"
            )


if __name__ == "__main__":
    main()
