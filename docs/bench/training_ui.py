"""Benchmark of the training UI at scale: 100,000 labelled examples, 1,000,000 predictions and
200 intents in PostgreSQL, every page's server time, the next queue item, the overview's charts,
a bulk relabel of 10,000 examples and the JavaScript and CSS the pages ship.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DATABASE_NAME=bench_training \
        REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python docs/bench/training_ui.py

The scratch database is BENCH_DATABASE_NAME on the server of DATABASE_URL, dropped and made
again, migrated, then filled by `manage.py intents_bench_data` (its defaults: 100,000 examples,
1,000,000 predictions over 30 days, 200 intents, 3,000 agents' verdicts, 500 pending examples,
3 model versions with 200 x 200 confusion matrices and 500 suspected mislabels). The Redis
database of REDIS_URL is flushed. Settings are production's (DEBUG off, static files collected
with hashed names) through a settings module in the run's scratch directory that only moves
STATIC_ROOT there, as docs/bench/card.py does.

Server time is view time: the requests go through Django's test Client in this process (the
whole middleware stack, the session, the view, the template; no socket and no HTTP parsing),
after importing copilot/wsgi.py as gunicorn does (it freezes what was loaded at start-up out of
the garbage collector's full passes, which otherwise stop a request for ~150 ms now and then),
signed in as a staff user with the training permissions, timed around each call. Each page is
asked once first (reported apart: cold caches, a new process's first query plans), then
REQUESTS times; p50 and p95 of those. The suggested intents' first request groups the abstained
messages (2,000 of them), which the cache then keeps: it is reported on its own row.

`--reuse` keeps the database of an earlier run (migrating it, not filling it again).
"""

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import ROOT, bench_database_url, cpu_summary, environment, manage, percentile

COMMAND = (
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DATABASE_NAME=bench_training "
    "REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python docs/bench/training_ui.py"
)
REQUESTS = 20
BULK_RUNS = 3
TARGET_PAGE_MS = 300.0
TARGET_NEXT_MS = 50.0
TARGET_CHARTS_MS = 300.0
TARGET_BULK_S = 5.0
TARGET_BYTES = 150 * 1024
SETTINGS_MODULE = "training_bench_settings"
BULK_LABELLER = "lead-3"  # the bench data gives each of 10 labellers a tenth of the examples


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def prepare(workdir: Path, *, reuse: bool) -> dict[str, str]:
    (workdir / f"{SETTINGS_MODULE}.py").write_text(
        "from copilot.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = {str(workdir / 'static')!r}\n"
    )
    if reuse:
        parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
        name = os.environ.get("BENCH_DATABASE_NAME", "copilot_bench")
        database_url = parts._replace(path=f"/{name}").geturl()
    else:
        database_url = bench_database_url()
    env = environment(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=f"{ROOT}{os.pathsep}{workdir}",
        COPILOT_DEMO="true",
        DJANGO_DEBUG="false",
        COPILOT_DATA_DIR=str(workdir / "data"),
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
    )
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    step("migrate, collectstatic")
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    if not reuse:
        step("intents_bench_data (100,000 examples, 1,000,000 predictions, 200 intents)")
        started = time.monotonic()
        output = manage(env, "intents_bench_data")
        step(f"data written in {time.monotonic() - started:.0f} s")
        print(output, file=sys.stderr)
    # A production table has been vacuumed (visibility map set, statistics fresh); one COPYed a
    # minute ago has not, which makes counts and index-only scans look slower than they are.
    import psycopg

    with psycopg.connect(
        database_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as db:
        db.execute("VACUUM ANALYZE")
    os.environ.update(env)
    sys.path[:0] = [str(ROOT), str(workdir)]
    import django

    django.setup()
    # As gunicorn loads the app: the views imported, what lives as long as the process set aside
    # from the garbage collector (copilot/wsgi.py).
    import copilot.wsgi  # noqa: F401

    return env


def staff_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-lead", defaults={"is_staff": True}
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_labeledexample",
                "change_labeledexample",
                "change_modelversion",
                "change_intent",
            ]
        )
    )
    client = Client()
    client.force_login(user)
    return client, user


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def measure_get(client, url: str, *, count: int = REQUESTS) -> dict:
    from django.db import connection

    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        first, response = timed(lambda: client.get(url, secure=True))
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    times = [timed(lambda: client.get(url, secure=True))[0] for _ in range(count)]
    return {
        "url": url,
        "first": first,
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
        "queries": len(queries),
        "bytes": len(response.content),
        "html": response.content.decode(),
    }


def measure_pages(client) -> dict[str, dict]:
    from django.urls import reverse

    from intents.models import HistoryImport, LabelDecision, LabeledExample, ModelVersion

    active = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
    ready = ModelVersion.objects.filter(status=ModelVersion.Status.READY).order_by("-number")[0]
    ids = list(LabeledExample.objects.order_by("-id").values_list("id", flat=True))
    deep = ids[len(ids) * 9 // 10]  # a page 90 % of the way down the list
    previewing = HistoryImport.objects.filter(status=HistoryImport.Status.PREVIEWING).first()
    done = HistoryImport.objects.filter(status=HistoryImport.Status.DONE).first()
    relabelled = (
        LabelDecision.objects.filter(kind=LabelDecision.Kind.EXAMPLE, action="label")
        .values_list("item_id", flat=True)
        .first()
    )
    dataset = reverse("intents:dataset")
    pages = {
        "overview": reverse("intents:overview"),
        "queue": reverse("intents:queue"),
        "dataset, first page": dataset,
        "dataset, text filter (q=gift card)": f"{dataset}?{urlencode({'q': 'gift card'})}",
        "dataset, intent filter": f"{dataset}?intent=refund_payment",
        "dataset, deep keyset page (90 %)": f"{dataset}?before={deep}",
        "dataset, intent filter + deep page": f"{dataset}?intent=track_order&before={deep}",
        "example history (relabelled on the dataset page)": reverse(
            "intents:example-history", args=[relabelled]
        ),
        "intents": reverse("intents:intents"),
        "suggestions": reverse("intents:suggestions"),
        "versions": reverse("intents:versions"),
        f"version detail (v{active.number}, 200 x 200)": reverse(
            "intents:version-detail", args=[active.number]
        ),
        f"compare v{active.number} / v{ready.number}": f"{reverse('intents:versions-compare')}?"
        f"base={active.number}&other={ready.number}",
        "dataset import (upload form)": reverse("intents:dataset-import"),
        "import from Kustomer": reverse("intents:kustomer-import"),
        "import from Kustomer, mapping (15 values)": reverse(
            "intents:kustomer-import-detail", args=[previewing.pk]
        ),
        "import from Kustomer, finished run": reverse(
            "intents:kustomer-import-detail", args=[done.pk]
        ),
    }
    results = {}
    for name, url in pages.items():
        step(f"GET {name}")
        results[name] = measure_get(client, url)
    return results


def measure_queue_next(client, user) -> dict[str, dict]:
    """The item after the two the queue page holds, as training.js asks for it; then the same
    when only the model's unsure predictions are left (the end of the queue, where it scans the
    1,000,000 predictions), in a transaction rolled back afterwards."""
    from django.db import transaction
    from django.urls import reverse

    from intents.models import IntentFeedback, LabeledExample, ModelVersionDataset
    from intents.review import labelling_queue

    def next_url() -> str:
        held = [item.key for item in labelling_queue(user_id=user.pk, limit=2)]
        return f"{reverse('intents:queue-next')}?{urlencode([('exclude', k) for k in held])}"

    results = {"next queue item": measure_get(client, next_url())}

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            LabeledExample.objects.filter(status=LabeledExample.Status.PENDING_REVIEW).update(
                status=LabeledExample.Status.TRUSTED
            )
            IntentFeedback.objects.exclude(verdict=IntentFeedback.Verdict.RIGHT).update(
                verdict=IntentFeedback.Verdict.RIGHT,
                intent_id=IntentFeedback.objects.values("intent_id")[:1],
            )
            ModelVersionDataset.objects.update(label_issues=[])
            results["next queue item, only unsure predictions left"] = measure_get(
                client, next_url()
            )
            results["queue, only unsure predictions left"] = measure_get(
                client, reverse("intents:queue")
            )
            raise Rollback
    except Rollback:
        pass
    return results


def measure_charts() -> dict[str, dict]:
    """The overview's chart data as the overview view computes it: the 30-day trend of
    confirmed verdicts and the predictions per intent and day of 30 days (stacked bars, the
    abstain rate and the 7-day table). As served, the days that are over come from the cache
    and only today is counted; counted afresh, the cache is emptied before every call (after a
    cache loss, the first overview pays this once)."""
    from django.core.cache import cache
    from django.utils import timezone

    from intents import charts, reports

    def draw():
        trend = reports.agent_confirmed_accuracy_trend(days=30)
        charts.trend_chart(trend, today=timezone.localdate(), days=30)
        daily = reports.predictions_per_day(days=30)
        reports.predictions_by_intent(daily[-7:])
        charts.predictions_chart(daily)
        charts.abstain_chart(daily)

    def afresh():
        cache.clear()
        draw()

    results = {}
    for name, call in (("as served", draw), ("counted afresh", afresh)):
        first = timed(call)[0]
        times = [timed(call)[0] for _ in range(REQUESTS)]
        results[name] = {
            "first": first,
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "max": max(times),
        }
    return results


def measure_bulk(client) -> dict:
    """POST the dataset's bulk relabel of every example one labeller labelled (10,000), then
    undo it (the batch undo restores each example), BULK_RUNS times."""
    from django.urls import reverse

    from intents.models import LabeledExample

    total = LabeledExample.objects.filter(labelled_by=BULK_LABELLER).count()
    before = dict(
        LabeledExample.objects.filter(labelled_by=BULK_LABELLER).values_list("id", "intent_id")
    )
    relabels, undos = [], []
    for _ in range(BULK_RUNS):
        data = {
            "labelled_by": BULK_LABELLER,
            "expected_total": str(total),
            "choice": "label",
            "new_intent": "track_order",
            "query": f"labelled_by={BULK_LABELLER}",
        }
        elapsed, response = timed(
            lambda data=data: client.post(reverse("intents:dataset-bulk"), data, secure=True)
        )
        moved = LabeledExample.objects.filter(
            labelled_by="bench-lead", intent__name="track_order"
        ).count()
        if response.status_code != 302 or moved < total:
            raise RuntimeError(f"bulk relabel: {response.status_code}, {moved} of {total} moved")
        relabels.append(elapsed / 1000)
        elapsed, response = timed(
            lambda: client.post(reverse("intents:queue-undo"), {"next": ""}, secure=True)
        )
        undos.append(elapsed / 1000)
        after = dict(
            LabeledExample.objects.filter(labelled_by=BULK_LABELLER).values_list("id", "intent_id")
        )
        if after != before:
            raise RuntimeError("the undo did not restore the examples")
    return {"examples": total, "relabel": relabels, "undo": undos}


class Assets:
    SCRIPT = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")
    STYLE = re.compile(r"<link[^>]*\brel=\"stylesheet\"[^>]*\bhref=\"([^\"]+)\"")
    ANY_URL = re.compile(r"(?:src|href)=\"(https?:)?//([^\"/]+)")


def measure_bytes(pages: dict[str, dict]) -> dict:
    """The JavaScript and CSS the pages reference, as collected (hashed names), raw and
    gzipped; and any origin other than the app's own that a page loads from."""
    from django.conf import settings

    files: dict[str, dict] = {}
    per_page = {}
    foreign = set()
    for name, page in pages.items():
        html = page["html"]
        urls = Assets.SCRIPT.findall(html) + Assets.STYLE.findall(html)
        foreign |= {host for _, host in Assets.ANY_URL.findall(html) if host != "testserver"}
        per_page[name] = urls
        for url in urls:
            if url in files:
                continue
            path = urlsplit(url).path
            if not path.startswith("/" + settings.STATIC_URL.strip("/") + "/"):
                foreign.add(url)
                continue
            relative = path.split("/", 2)[2]
            content = (Path(settings.STATIC_ROOT) / relative).read_bytes()
            files[url] = {"bytes": len(content), "gzip": len(gzip.compress(content, 9))}
    largest = max(per_page.items(), key=lambda item: sum(files[u]["bytes"] for u in item[1]))
    return {
        "files": files,
        "page_total": sum(files[u]["bytes"] for u in largest[1]),
        "page_gzip": sum(files[u]["gzip"] for u in largest[1]),
        "all_total": sum(f["bytes"] for f in files.values()),
        "all_gzip": sum(f["gzip"] for f in files.values()),
        "foreign": sorted(foreign),
    }


def verdict(value: float, target: float) -> str:
    return "pass" if value <= target else "**FAIL**"


def report(results: dict) -> str:
    lines = [
        "## The training UI at scale",
        "",
        f"Machine: {cpu_summary()}; PostgreSQL and Redis on this machine, shared. "
        f"{results['data']} Django test Client in the benchmark's process (view time: "
        f"middleware, view, template), DEBUG off, signed in as staff. Command: `{COMMAND}`",
        "",
        f"Server time, ms: the first request apart, then p50 / p95 / max of {REQUESTS}.",
        "",
        "| what | target | first | p50 | p95 | max | queries | HTML KB | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(name: str, figures: dict, target: float) -> str:
        queries = figures.get("queries", "")
        size = f"{figures['bytes'] / 1024:.0f}" if "bytes" in figures else ""
        return (
            f"| {name} | p95 ≤ {target:.0f} ms | {figures['first']:.0f} | {figures['p50']:.1f} "
            f"| {figures['p95']:.1f} | {figures['max']:.0f} | {queries} | {size} "
            f"| {verdict(figures['p95'], target)} |"
        )

    for name, figures in results["pages"].items():
        lines.append(row(name, figures, TARGET_PAGE_MS))
    for name, figures in results["queue_next"].items():
        target = TARGET_PAGE_MS if name.startswith("queue,") else TARGET_NEXT_MS
        lines.append(row(name, figures, target))
    charts = results["charts"]
    lines.append(row("overview's chart data, as served", charts["as served"], TARGET_CHARTS_MS))
    afresh = charts["counted afresh"]
    lines += [
        "",
        "Overview's chart data counted afresh (the 30 days of predictions read again, as after "
        f"a cache loss; once, then the days that are over are kept): p50 {afresh['p50']:.0f} ms, "
        f"p95 {afresh['p95']:.0f} ms.",
    ]
    suggestions = results["pages"]["suggestions"]
    lines += [
        "",
        f"Suggested intents, first request with a cold cache (groups the abstained messages): "
        f"{suggestions['first']:.0f} ms; target for the warm page: p95 ≤ 300 ms.",
        "",
    ]
    bulk = results["bulk"]
    relabel = statistics.median(bulk["relabel"])
    lines += [
        f"**Bulk relabel of {bulk['examples']:,} examples** (dataset filtered by labeller, "
        f"POST /training/dataset/bulk, one decision per example): median of {BULK_RUNS} "
        f"**{relabel:.2f} s** ({', '.join(f'{t:.2f}' for t in bulk['relabel'])}), target ≤ "
        f"{TARGET_BULK_S:.0f} s: {verdict(relabel, TARGET_BULK_S)}. Undo of the batch (restoring "
        f"each example between runs): median {statistics.median(bulk['undo']):.2f} s.",
        "",
    ]
    assets = results["bytes"]
    lines += [
        f"**JavaScript and CSS shipped**: every page references the same files, "
        f"{assets['page_total']:,} bytes raw ({assets['page_total'] / 1024:.1f} KiB), "
        f"{assets['page_gzip']:,} gzipped; target ≤ 150 KB: "
        f"{verdict(assets['page_total'], TARGET_BYTES)}. Origins other than the app's: "
        f"{', '.join(assets['foreign']) or 'none'} (no CDN).",
        "",
        "| file | bytes | gzip |",
        "|---|---|---|",
        *(f"| {url} | {f['bytes']:,} | {f['gzip']:,} |" for url, f in assets["files"].items()),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--reuse", action="store_true", help="keep the earlier run's data")
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="training-bench-"))
    step(f"scratch directory {workdir}")
    prepare(workdir, reuse=arguments.reuse)
    from intents.models import IntentFeedback, LabeledExample, Prediction

    data = (
        f"Data: {LabeledExample.objects.count():,} examples, {Prediction.objects.count():,} "
        f"predictions, {IntentFeedback.objects.count():,} verdicts."
    )
    client, user = staff_client()
    results = {"data": data}
    results["pages"] = measure_pages(client)
    step("the next queue item")
    results["queue_next"] = measure_queue_next(client, user)
    step("the overview's chart data")
    results["charts"] = measure_charts()
    step("bulk relabel of 10,000 examples, undone between runs")
    results["bulk"] = measure_bulk(client)
    results["bytes"] = measure_bytes(results["pages"])
    print(report(results))
    if arguments.json:
        for figures in [*results["pages"].values(), *results["queue_next"].values()]:
            figures.pop("html", None)
        Path(arguments.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
