"""Freezes made before the evaluation set's revisions were numbered become revisions 1, 2...
when the database is migrated (intents/migrations/0016)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("intents", "0015_example_text_trigram_index")]
AFTER = [("intents", "0016_evaluation_set_revisions")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrated_back():
    """The database at BEFORE for the test, and at the latest migrations again after it."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_each_earlier_freeze_becomes_a_revision_in_order(migrated_back):
    apps = _migrate(BEFORE)
    intent_model = apps.get_model("intents", "Intent")
    example_model = apps.get_model("intents", "LabeledExample")
    refund, track = (intent_model.objects.create(name=name) for name in ("refund", "track"))
    first, second = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    for number, (intent, held_out_at) in enumerate(
        [(refund, first), (refund, first), (track, second), (track, None)]
    ):
        example_model.objects.create(
            text=f"message {number}", text_sha256=f"{number:064d}", intent=intent,
            held_out_at=held_out_at,
        )  # fmt: skip

    apps = _migrate(AFTER)

    revisions = apps.get_model("intents", "EvaluationSetRevision").objects.order_by("number")
    assert [(r.number, r.added, r.size, r.intents, r.created_at) for r in revisions] == [
        (1, 2, 2, 1, first),
        (2, 1, 3, 2, second),
    ]
    examples = apps.get_model("intents", "LabeledExample").objects.order_by("text")
    assert [e.held_out_in.number if e.held_out_in else None for e in examples] == [1, 1, 2, None]
