"""One way to queue background work: after the transaction commits, and never lost.

Every kind of queued work is a row that knows it is unfinished (a webhook event not processed
yet, an order action queued, a note not written, a training run not started...). The row carries
two fields, `needs_queueing` and `task_at` (see `QueuedWorkMixin`), and the kind is declared
once as a `Work`:

    ORDER_ACTION_EXECUTION = queueing.Work(
        name="order action",
        task="copilot.commerce.tasks.execute_order_action",
        model=OrderAction,
        unfinished=Q(status=OrderAction.Status.QUEUED),
    )
    queueing.register(ORDER_ACTION_EXECUTION)          # in the app's AppConfig.ready()

    queueing.enqueue_on_commit(ORDER_ACTION_EXECUTION, action.pk)

The task is published once the current transaction commits. When the broker refuses, the caller
is not told (its work is stored: a webhook is still acknowledged, an agent's action still
accepted); the row is marked `needs_queueing` and beat's sweep (`work_sweep`, every
`COPILOT_SWEEP_SECONDS`) queues it at its next run. The sweep also queues again unfinished rows
whose task has not been queued or started for `COPILOT_REQUEUE_AFTER_SECONDS`: tasks that Redis
lost when it restarted empty, or that died with a worker killed mid-task. Every task is idempotent
(it claims its row with a conditional update), so a task queued twice still acts once.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from celery.signals import before_task_publish, task_prerun
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from kombu import pools
from kombu.exceptions import LimitExceeded
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a refused or unreachable broker raises at publish time.
BROKER_ERRORS = (KombuOperationalError, RedisError, ConnectionError, TimeoutError)


class QueuedWorkMixin(models.Model):
    """The two fields every row of queued work carries."""

    # Its task could not be queued (the broker was down): the sweep's next run queues it.
    needs_queueing = models.BooleanField(default=False)
    # When a task for it was last queued or started; an unfinished row with no task for
    # COPILOT_REQUEUE_AFTER_SECONDS lost it, and the sweep queues it again.
    task_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Work:
    """A kind of background work: which task runs it, on which rows, while they are unfinished.

    The task takes the row's primary key, then `args(row)` if given (as extra positional
    arguments). `available` narrows `unfinished` to rows the sweep may queue now (a message whose
    lease a live worker holds is unfinished but not available). `lost_after` overrides
    COPILOT_REQUEUE_AFTER_SECONDS for work whose task legitimately runs longer (training).
    """

    name: str
    task: str
    model: type[models.Model]
    unfinished: Q
    available: Callable[[], Q] | None = None
    extra_args: tuple[str, ...] = ()
    lost_after: timedelta | None = None
    # The task itself records its start on the row (the pipeline's lease does): no second write.
    task_marks_start: bool = False
    # Applied to the rows the sweep queues again (a run that died mid-way goes back to queued).
    requeue_changes: dict = field(default_factory=dict)
    # Run by the sweep before it queues anything: fails the rows that waited too long for a
    # person to look at instead (returns how many).
    expire: Callable[[], int] | None = None

    def requeue_after(self) -> timedelta:
        return self.lost_after or timedelta(seconds=settings.COPILOT_REQUEUE_AFTER_SECONDS)

    def args(self, pk, row_values: dict | None = None) -> tuple:
        return (pk, *((row_values or {}).get(name) for name in self.extra_args))


_registry: dict[str, Work] = {}


def register(work: Work) -> Work:
    """Declares a kind of work to the sweep; registering the same task again replaces it."""
    _registry[work.task] = work
    return work


def registered() -> list[Work]:
    return list(_registry.values())


def _publish(work: Work, args: tuple) -> bool:
    """Publishes one task now; False (and the row marked for the sweep) when the broker refuses,
    or does not answer within COPILOT_PUBLISH_TIMEOUT."""
    try:
        _send_task_within(work.task, args, timeout=settings.COPILOT_PUBLISH_TIMEOUT)
    except (*BROKER_ERRORS, LimitExceeded) as error:
        work.model.objects.filter(pk=args[0]).update(needs_queueing=True)
        # The row id and the task name only: never anything of a customer's content.
        logger.warning(
            "%s %s is stored but its task could not be queued (%s); the sweep will queue it",
            work.name,
            args[0],
            type(error).__name__,
        )
        return False
    return True


def _send_task_within(name: str, args: tuple, *, timeout: float) -> None:
    """`send_task` that gives up after about `timeout` seconds, where Celery's own publish waits
    for the transport's socket timeout and retries three times (close to a minute with a Redis
    that accepts connections but does not answer).

    It publishes on pooled connections of its own whose socket timeout is `timeout`, without
    retrying: the row is stored, and the sweep queues what failed. Celery's shared connections,
    and the workers' consumers, keep the broker's longer timeouts."""
    connection = _publishing_connection(current_app.conf.broker_write_url, timeout)
    # kombu keeps one producer pool per set of connection parameters, so these connections are
    # made once per process and reused, like Celery's own.
    with pools.producers[connection].acquire(block=True, timeout=timeout) as producer:
        current_app.send_task(name, args=args, producer=producer, retry=False)


@functools.lru_cache(maxsize=8)
def _publishing_connection(broker_url: str, timeout: float):
    """The parameters of those connections, built once per broker URL: building them costs more
    than the publish itself (0.17 ms of CPU per webhook). It is only the key of kombu's pool
    (which opens its own connections, and is reset in a forked child), never connected itself."""
    return current_app.connection_for_write(
        broker_url,
        transport_options={
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            # Connecting is tried once, where kombu would go on trying for seconds.
            "max_retries": 0,
        },
    )


def publish_on_commit_best_effort(task: str, *args) -> None:
    """For work nothing depends on (a cache fill): published after commit within
    COPILOT_PUBLISH_TIMEOUT, and dropped, with a log line, when the broker refuses or hangs."""

    def publish() -> None:
        try:
            _send_task_within(task, args, timeout=settings.COPILOT_PUBLISH_TIMEOUT)
        except (*BROKER_ERRORS, LimitExceeded) as error:
            logger.info("%s was not queued (%s); nothing depends on it", task, type(error).__name__)

    transaction.on_commit(publish)


def _task(name: str):
    if name not in current_app.tasks:
        # Tasks modules are imported lazily outside a worker.
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue_on_commit(work: Work, pk, *extra_args) -> None:
    """Queues `work`'s task for row `pk` once the current transaction commits (at once outside
    a transaction). Never raises for the broker's sake: a refused publish leaves the row for the
    sweep."""
    args = (pk, *extra_args)
    if current_app.conf.task_always_eager:
        # In process (the embedded default, most tests): run it after commit, as a worker would.
        # A failure is kept in the eager result (or raised, with CELERY_TASK_EAGER_PROPAGATES).
        transaction.on_commit(lambda: _task(work.task).apply(args=args))
        return
    transaction.on_commit(lambda: _publish(work, args))


def work_sweep(*, limit: int = 500) -> dict[str, int]:
    """Queues every unfinished row whose task was not queued or was lost; returns how many of
    each kind. Safe to run from several processes at once (rows are locked, skipped if taken)."""
    now = timezone.now()
    queued: dict[str, int] = {}
    idle: dict[str, bool] = {}
    for work in registered():
        if work.expire is not None:
            work.expire()
        rows = work.model.objects.filter(work.unfinished)
        if work.available is not None:
            rows = rows.filter(work.available())
        lost = Q(task_at__lt=now - work.requeue_after())
        queue = _queue_of(work.task)
        if queue not in idle:
            idle[queue] = _queue_is_empty(queue)
        if not idle[queue]:
            # Tasks still wait in the queue (a backlog, not a loss): only unpublished rows now.
            lost = Q(pk__in=[])
        due = rows.filter(Q(needs_queueing=True) | lost)
        publish = _take(due, work=work, now=now, limit=limit)
        for args in publish:
            _publish(work, args)
        if publish:
            queued[work.name] = len(publish)
    return queued


def _queue_of(task: str) -> str:
    route = (settings.CELERY_TASK_ROUTES or {}).get(task) or {}
    return route.get("queue") or settings.CELERY_TASK_DEFAULT_QUEUE


def _queue_is_empty(queue: str) -> bool:
    """Whether the broker holds no task waiting in `queue` (tasks taken by a worker, or waiting
    for their ETA there, do not count)."""
    try:
        with current_app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue, passive=True).message_count == 0
    except Exception:
        # An unknown queue, or a broker that refuses (then publishing fails too): nothing waits.
        return True


def _take(due: QuerySet, *, work: Work, now, limit: int) -> list[tuple]:
    with transaction.atomic():
        values = list(
            due.order_by("task_at")
            .select_for_update(skip_locked=True)
            .values("pk", *work.extra_args)[:limit]
        )
        work.model.objects.filter(pk__in=[row["pk"] for row in values]).update(
            task_at=now, needs_queueing=False, **work.requeue_changes
        )
    return [work.args(row["pk"], row) for row in values]


@before_task_publish.connect
def _task_due_later(sender=None, body=None, headers=None, **_) -> None:
    """A registered task published with a countdown (a retry) is not lost before it is due."""
    work = _registry.get(sender or "")
    eta = (headers or {}).get("eta")
    args = body[0] if isinstance(body, tuple | list) and body else None
    if work is None or not eta or not args:
        return
    due = datetime.fromisoformat(eta) if isinstance(eta, str) else eta
    work.model.objects.filter(pk=args[0]).update(task_at=due)


@task_prerun.connect
def _task_started(sender=None, args=None, **_) -> None:
    """A registered task that starts marks its row, so the sweep does not queue it again while
    it runs."""
    work = _registry.get(getattr(sender, "name", ""))
    if work is None or work.task_marks_start or not args:
        return
    if getattr(sender.request, "is_eager", False):
        return
    work.model.objects.filter(pk=args[0]).update(task_at=timezone.now())
