"""Synthetic data at production scale for measuring the training UI: labelled examples,
predictions over 30 days, agents' feedback, reviewers' decisions, model versions with their
metrics and kept datasets, imports from Kustomer. For a scratch database only.

The texts are generated from phrasings per intent (verb and object, "where is my gift card",
"cancel my subscription"), each made unique by an order number; abstentions are messages about
topics no intent covers ("loyalty points", "opening hours"), so that the suggested intents find
groups in them. The large tables (examples, predictions, feedback) are written with COPY in
batches; the rest with bulk_create.
"""

import io
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from .curation import evaluation_set_revision_add
from .models import (
    HistoryImport,
    Intent,
    IntentChange,
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
    ModelVersionEvent,
    Prediction,
    text_fingerprint,
)
from .training import training_data_hash

VERBS = {
    "track": ["where is my {o}", "can you track my {o}", "what is the status of my {o}"],
    "cancel": ["please cancel my {o}", "I want to cancel the {o}", "how do I cancel my {o}"],
    "change": ["I need to change my {o}", "can I change the {o}", "change the {o} please"],
    "return": ["how do I return my {o}", "I want to send back the {o}", "return label for {o}"],
    "refund": ["I want a refund for my {o}", "when do I get my money back for the {o}",
               "refund the {o} please"],
    "exchange": ["can I exchange my {o}", "swap the {o} for another one", "exchange for {o}"],
    "update": ["please update my {o}", "the {o} needs updating", "update details of my {o}"],
    "check": ["can you check my {o}", "is my {o} ok", "please look at my {o}"],
    "report": ["problem with my {o}", "my {o} is wrong", "something is broken with the {o}"],
    "apply": ["how do I apply my {o}", "the {o} does not apply", "apply a {o} to my order"],
    "remove": ["remove the {o} please", "take the {o} off my account", "delete my {o}"],
    "add": ["can I add a {o}", "please add the {o}", "I forgot to add my {o}"],
    "pause": ["pause my {o} for a month", "can I put my {o} on hold", "hold the {o}"],
    "resume": ["resume my {o}", "start my {o} again", "reactivate the {o}"],
    "confirm": ["did you get my {o}", "please confirm my {o}", "confirmation for my {o}"],
    "dispute": ["I dispute the {o}", "I never agreed to this {o}", "unauthorised {o}"],
    "split": ["can you split my {o}", "split the {o} in two", "ship the {o} separately"],
    "reorder": ["I want to reorder the {o}", "order the same {o} again", "repeat my {o}"],
    "price_match": ["price match for my {o}", "the {o} is cheaper elsewhere", "match the {o}"],
    "transfer": ["transfer my {o} to my partner", "move the {o} to another account",
                 "give my {o} to a friend"],
}  # fmt: skip
OBJECTS = {
    "order": ["order", "parcel", "purchase"],
    "address": ["address", "shipping address", "delivery address"],
    "payment": ["payment", "card payment", "charge"],
    "subscription": ["subscription", "monthly box", "plan"],
    "gift_card": ["gift card", "voucher", "gift voucher"],
    "discount_code": ["discount code", "promo code", "coupon"],
    "warranty": ["warranty", "guarantee", "repair cover"],
    "size": ["size", "fit", "sizing"],
    "delivery": ["delivery", "delivery slot", "courier"],
    "invoice": ["invoice", "receipt", "VAT invoice"],
}
GREETINGS = ["", "", "Hi, ", "Hello, ", "Hey there, ", "Good morning, ", "Hi team, "]
DETAILS = [
    "It has been a week.",
    "Thanks in advance.",
    "I ordered it last Tuesday.",
    "This is the second time I ask.",
    "My email is on the account.",
    "Please get back to me soon.",
    "It was a present for my sister.",
    "I am travelling next week.",
    "",
    "",
]
# What customers ask that no intent covers: the messages the model abstains on.
UNCOVERED = {
    "loyalty_points": ["how many loyalty points do I have", "my loyalty points are missing"],
    "opening_hours": ["what are your store opening hours", "is the shop open on Sunday"],
    "job_application": ["I applied for a job at your warehouse", "are you hiring staff"],
    "wholesale": ["do you sell wholesale to shops", "bulk pricing for my boutique"],
    "gift_wrapping": ["can you gift wrap my parcel", "do you offer gift wrapping"],
    "allergy": ["does the candle contain nut oil", "allergy information for the soap"],
    "recycling": ["can I recycle the packaging", "do you take back old boxes"],
    "press": ["I am a journalist writing about you", "press contact for an interview"],
    "care_instructions": ["how do I wash the linen shirt", "care instructions for wool"],
    "student_discount": ["do you have a student discount", "student pricing please"],
    "stock_alert": ["when will the blue jacket be back in stock", "restock date for the lamp"],
    "collaboration": ["I am an influencer, can we collaborate", "partnership proposal"],
}
LABELLERS = [f"lead-{index}" for index in range(1, 11)]  # exactly a tenth of the examples each
AGENTS = [(f"agent-{index:02d}", f"Agent {index:02d}") for index in range(1, 26)]
ABSTAIN_SHARE = 0.12
THRESHOLD = 0.5
SOURCES = (
    [LabeledExample.Source.IMPORT] * 12
    + [LabeledExample.Source.AGENT_FEEDBACK] * 3
    + [LabeledExample.Source.ADMIN] * 3
    + [LabeledExample.Source.KUSTOMER_HISTORY] * 2
)


@dataclass(frozen=True)
class BenchData:
    examples: int
    predictions: int
    intents: int
    feedback: int
    pending: int
    decisions: int
    versions: list[int]
    label_issues: int


def intent_names(count: int) -> list[str]:
    """verb_object names, most common first: track_order, cancel_order, ..."""
    names = [f"{verb}_{obj}" for obj in OBJECTS for verb in VERBS]
    extra = 0
    while len(names) < count:
        extra += 1
        names += [f"{name}_{extra}" for name in names[: count - len(names)]]
    return names[:count]


def _phrase(name: str, rng: random.Random) -> str:
    verb, obj = _parts(name)
    template = rng.choice(VERBS[verb])
    return template.format(o=rng.choice(OBJECTS[obj]))


def _parts(name: str) -> tuple[str, str]:
    for obj in OBJECTS:
        if f"_{obj}" in name:
            return name.split(f"_{obj}")[0], obj
    raise ValueError(name)


def _text(phrase: str, number: int, rng: random.Random) -> str:
    greeting = rng.choice(GREETINGS)
    body = phrase[0].upper() + phrase[1:] if not greeting else phrase
    return f"{greeting}{body}? Order #{number}. {rng.choice(DETAILS)}".strip()


def _shares(names: list[str]) -> list[float]:
    """Zipf-like: the most common intent is about 15 times as frequent as the rarest."""
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(names))]
    total = sum(weights)
    return [weight / total for weight in weights]


def _counts(total: int, shares: list[float]) -> list[int]:
    counts = [int(total * share) for share in shares]
    for index in range(total - sum(counts)):
        counts[index % len(counts)] += 1
    return counts


def _escape(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")


def _copy(table: str, columns: list[str], rows: Iterable[tuple], *, batch: int = 50_000) -> int:
    """COPY rows into a table, `batch` rows per statement; returns the number written."""
    written = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"

    def flush(buffer: io.StringIO) -> None:
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(buffer.getvalue())

    buffer = io.StringIO()
    pending = 0
    for row in rows:
        buffer.write("\t".join(_escape(value) for value in row))
        buffer.write("\n")
        pending += 1
        if pending == batch:
            flush(buffer)
            written += pending
            buffer, pending = io.StringIO(), 0
    if pending:
        flush(buffer)
        written += pending
    return written


def _top(rng: random.Random, first: str, names: list[str], *, sure: bool) -> list[list]:
    p1 = rng.uniform(0.52, 0.98) if sure else rng.uniform(0.18, 0.48)
    p2 = (1 - p1) * rng.uniform(0.35, 0.75)
    p3 = (1 - p1 - p2) * rng.uniform(0.3, 0.7)
    others = rng.sample(names, 3)
    others = [name for name in others if name != first][:2]
    return [[first, round(p1, 4)], [others[0], round(p2, 4)], [others[1], round(p3, 4)]]


def _metrics(
    names: list[str], support: dict[str, int], rng: random.Random, *, skill: float, n_train: int
) -> dict:
    """Training metrics as TrainingMetrics.to_dict() writes them, consistent with a confusion
    matrix in which each intent is mistaken mostly for intents sharing its verb or object."""
    index = {name: position for position, name in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for name in names:
        row = matrix[index[name]]
        total = support[name]
        right = round(total * min(0.995, max(0.4, rng.gauss(skill, 0.08))))
        row[index[name]] = right
        verb, obj = _parts(name)
        near = [other for other in names if other != name and (verb in other or obj in other)]
        for _ in range(total - right):
            row[index[rng.choice(near[:12] or names)]] += 1
    columns = [sum(row[j] for row in matrix) for j in range(len(names))]
    per_intent = {}
    for name in names:
        i = index[name]
        rows_total = sum(matrix[i])
        precision = matrix[i][i] / columns[i] if columns[i] else 0.0
        recall = matrix[i][i] / rows_total if rows_total else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": rows_total,
        }
    n_test = sum(columns)
    accuracy = sum(matrix[i][i] for i in range(len(names))) / n_test if n_test else 0.0
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(sum(s["f1"] for s in per_intent.values()) / len(names), 4),
        "per_intent": per_intent,
        "confusion_matrix": {"labels": names, "matrix": matrix},
        "calibration_error": round(rng.uniform(0.02, 0.05), 4),
        "threshold": THRESHOLD,
        "coverage": round(rng.uniform(0.84, 0.9), 4),
        "precision_at_threshold": round(min(0.99, accuracy + 0.05), 4),
        "n_train": n_train,
        "n_test": n_test,
        "n_labels": len(names),
        "protocol": f"stratified hold-out of {n_test} examples",
        "temperature": round(rng.uniform(1.1, 1.6), 6),
    }


def bench_data_generate(
    *,
    examples: int = 100_000,
    predictions: int = 1_000_000,
    intents: int = 200,
    feedback: int = 3_000,
    pending: int = 500,
    decisions: int = 1_500,
    days: int = 30,
    seed: int = 7,
    say: Callable[[str], None] = lambda line: None,
) -> BenchData:
    """Fills the database with the given amounts of each (see the module docstring). Adds to
    what is there (order numbers and message ids continue after the existing ones)."""
    rng = random.Random(seed)
    now = timezone.now()
    first_prediction = now - timedelta(days=days)
    v1_trained, v1_live = now - timedelta(days=days + 10), now - timedelta(days=days + 9)
    v2_trained, v2_live = now - timedelta(days=days * 0.6 + 1), now - timedelta(days=days * 0.6)
    v3_trained = now - timedelta(days=1)
    frozen_at = v2_trained - timedelta(days=2)

    say(f"{intents} intents and {len(LABELLERS)} staff accounts")
    names = intent_names(intents)
    Intent.objects.bulk_create(
        [Intent(name=name, description=f"Customers who {_phrase(name, rng)}.") for name in names],
        ignore_conflicts=True,
    )
    intent_ids = dict(Intent.objects.filter(name__in=names).values_list("name", "id"))
    user_model = get_user_model()
    users = []
    for username in LABELLERS:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)

    # --- labelled examples ---------------------------------------------------------------------
    say(f"{examples:,} labelled examples (COPY)")
    shares = _shares(names)
    assigned = [
        name for name, count in zip(names, _counts(examples, shares), strict=True)
        for _ in range(count)
    ]  # fmt: skip
    rng.shuffle(assigned)
    first_example_id = LabeledExample.objects.order_by("-id").values_list("id", flat=True).first()
    first_example_id = first_example_id or 0
    # Order numbers continue after those of an earlier run, so that every text is new.
    number_base = 1_000_000 + first_example_id * 3
    review_first = set(rng.sample(range(examples), min(examples, max(0, pending // 2))))
    held_out = set(rng.sample(range(examples), examples // 20))
    example_rows = []
    for i, name in enumerate(assigned):
        source = SOURCES[i % len(SOURCES)]
        labelled_at = (
            now - timedelta(days=rng.uniform(1, days * 0.6 - 0.5))
            if i % 20 == 0
            else v2_trained - timedelta(days=rng.uniform(0.1, 120))
        )
        status = (
            LabeledExample.Status.PENDING_REVIEW
            if i in review_first
            else LabeledExample.Status.TRUSTED
        )
        if status == LabeledExample.Status.PENDING_REVIEW:
            source = LabeledExample.Source.KUSTOMER_HISTORY
        text = _text(_phrase(name, rng), number_base + i * 3, rng)
        message_id = f"hist-{number_base + i}" if source != LabeledExample.Source.IMPORT else ""
        example_rows.append(
            (
                text,
                text_fingerprint(text),
                intent_ids[name],
                source,
                status,
                f"conv-{number_base + i}" if message_id else "",
                message_id,
                LABELLERS[i % len(LABELLERS)],
                labelled_at,
                frozen_at if i in held_out and status == "trusted" else None,
            )
        )
    _copy(
        LabeledExample._meta.db_table,
        [
            "text",
            "text_sha256",
            "intent_id",
            "source",
            "status",
            "kustomer_conversation_id",
            "kustomer_message_id",
            "labelled_by",
            "labelled_at",
            "held_out_at",
        ],
        example_rows,
    )
    evaluation_set_revision_add(
        LabeledExample.objects.filter(id__gt=first_example_id, held_out_at=frozen_at),
        user=None,
        reason="Generated with the examples",
        held_out_at=frozen_at,
    )

    # --- model versions ------------------------------------------------------------------------
    say("3 model versions: retired v1, active v2, v3 ready to promote, with metrics and datasets")
    top_number = ModelVersion.objects.order_by("-number").values_list("number", flat=True).first()
    number = top_number or 0
    ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).update(
        status=ModelVersion.Status.RETIRED
    )
    created_versions = []
    name_of = {pk: name for name, pk in intent_ids.items()}
    for offset, (status, trained_at, activated_at, skill, share) in enumerate(
        [
            (ModelVersion.Status.RETIRED, v1_trained, v1_live, 0.84, 0.6),
            (ModelVersion.Status.ACTIVE, v2_trained, v2_live, 0.88, 1.0),
            (ModelVersion.Status.READY, v3_trained, None, 0.9, 1.0),
        ],
        start=1,
    ):
        data = [
            (row[0], name_of[row[2]])
            for row in example_rows
            if row[4] == LabeledExample.Status.TRUSTED and row[9] is None and row[8] <= trained_at
        ]
        data = data[: int(len(data) * share)]
        support = dict.fromkeys(names, 0)
        for _, label in data:
            support[label] += 1
        test_support = {name: max(1, count // 5) for name, count in support.items()}
        metrics = _metrics(names, test_support, rng, skill=skill, n_train=len(data))
        version = ModelVersion.objects.create(
            number=number + offset,
            status=status,
            progress=1.0,
            progress_message="done",
            training_log=[
                {"at": (trained_at - timedelta(seconds=s)).isoformat(), "progress": p, "step": m}
                for s, p, m in [
                    (95, 0.0, f"started on {len(data)} examples of {len(names)} intents"),
                    (90, 0.05, "cleaning texts"),
                    (80, 0.2, "fitting"),
                    (30, 0.8, "calibrating"),
                    (10, 0.9, "evaluating"),
                    (0, 1.0, f"done: accuracy {metrics['accuracy']:.1%}"),
                ]
            ],
            training_data_sha256=training_data_hash(
                [text for text, _ in data], [label for _, label in data]
            ),
            training_size=len(data),
            parameters={"seed": 0},
            metrics=metrics,
            created_by=users[0],
        )
        ModelVersion.objects.filter(pk=version.pk).update(
            created_at=trained_at - timedelta(minutes=3),
            trained_at=trained_at,
            activated_at=activated_at,
        )
        issues = []
        if status == ModelVersion.Status.ACTIVE:
            issues = _label_issues(data, names, rng, limit=500)
        ModelVersionDataset.objects.create(
            version=version, examples=[list(pair) for pair in data], label_issues=issues
        )
        created_versions.append(version)
    v1, v2, _v3 = created_versions
    ModelVersionEvent.objects.bulk_create(
        [
            ModelVersionEvent(
                action=ModelVersionEvent.Action.PROMOTE,
                version=v1,
                reason="first model",
                performed_by=users[0],
            ),
            ModelVersionEvent(
                action=ModelVersionEvent.Action.PROMOTE,
                version=v2,
                previous_version=v1,
                reason="better macro-F1 on the refund intents",
                performed_by=users[0],
            ),
        ]
    )

    # --- predictions ---------------------------------------------------------------------------
    say(f"{predictions:,} predictions over {days} days, {ABSTAIN_SHARE:.0%} abstained (COPY)")
    last_prediction = Prediction.objects.order_by("-id").values_list("id", flat=True).first() or 0
    message_base = last_prediction + 1
    uncovered = list(UNCOVERED.values())
    # Short messages customers send again and again, the same text many times.
    common = [_phrase(name, rng).capitalize() + "?" for name in names[:60]]
    seconds = days * 24 * 3600
    switch = (v2_live - first_prediction).total_seconds()

    def prediction_rows():
        for i in range(predictions):
            at_seconds = seconds * i / max(predictions, 1)
            at = first_prediction + timedelta(seconds=at_seconds + rng.uniform(0, 1))
            version_id = v1.pk if at_seconds < switch else v2.pk
            abstained = rng.random() < ABSTAIN_SHARE
            name = names[min(int(rng.paretovariate(1.2)) - 1, len(names) - 1)]
            if rng.random() < 0.5:
                name = rng.choice(names)
            if abstained and rng.random() < 0.7:
                phrase = rng.choice(rng.choice(uncovered))
            else:
                phrase = _phrase(name, rng)
            if rng.random() < 0.05:
                text = rng.choice(common)
            else:
                text = _text(phrase, 50_000_000 + message_base + i, rng)
            top = _top(rng, name, names, sure=not abstained)
            yield (
                text,
                f"msg-{message_base + i}",
                f"conv-m{(message_base + i) // 2}",
                version_id,
                "" if abstained else name,
                top[0][1],
                json.dumps(top),
                abstained,
                round(rng.uniform(3, 25), 2),
                at,
            )

    _copy(
        Prediction._meta.db_table,
        [
            "text",
            "kustomer_message_id",
            "kustomer_conversation_id",
            "model_version_id",
            "intent",
            "confidence",
            "top",
            "abstained",
            "latency_ms",
            "created_at",
        ],
        prediction_rows(),
    )

    # --- agents' feedback and the examples it made ---------------------------------------------
    say(f"{feedback:,} agents' verdicts (some corrections), pending examples from them")
    chosen = rng.sample(range(predictions), min(feedback, predictions))
    by_message = {
        row[1]: row
        for row in Prediction.objects.filter(
            kustomer_message_id__in=[f"msg-{message_base + i}" for i in chosen]
        ).values_list("id", "kustomer_message_id", "kustomer_conversation_id", "text", "intent",
                      "created_at")
    }  # fmt: skip
    feedback_rows, pending_examples = [], []
    corrected_pending = max(0, pending - len(review_first))
    for message_id, (pk, _, conversation_id, text, predicted, created_at) in by_message.items():
        draw = rng.random()
        if predicted and draw < 0.8:
            verdict, intent = IntentFeedback.Verdict.RIGHT, predicted
        elif draw < (0.95 if predicted else 0.7):
            verdict = IntentFeedback.Verdict.CORRECTED
            intent = rng.choice([name for name in names if name != predicted])
        else:
            verdict, intent = IntentFeedback.Verdict.NONE_OF_THESE, None
        agent_id, agent_name = rng.choice(AGENTS)
        at = created_at + timedelta(minutes=rng.uniform(1, 90))
        feedback_rows.append(
            (
                message_id,
                conversation_id,
                pk,
                predicted,
                verdict,
                intent_ids[intent] if intent else None,
                agent_id,
                agent_name,
                at,
                at,
            )
        )
        fingerprint = text_fingerprint(text)
        if (
            verdict == IntentFeedback.Verdict.CORRECTED
            and len(pending_examples) < corrected_pending
            and fingerprint not in {row[1] for row in pending_examples}
            and not LabeledExample.objects.filter(text_sha256=fingerprint).exists()
        ):
            pending_examples.append(
                (
                    text,
                    fingerprint,
                    intent_ids[intent],
                    LabeledExample.Source.AGENT_FEEDBACK,
                    LabeledExample.Status.PENDING_REVIEW,
                    conversation_id,
                    message_id,
                    agent_name,
                    at,
                    None,
                )
            )
    _copy(
        IntentFeedback._meta.db_table,
        [
            "kustomer_message_id",
            "kustomer_conversation_id",
            "prediction_id",
            "predicted_intent",
            "verdict",
            "intent_id",
            "agent_id",
            "agent_name",
            "created_at",
            "updated_at",
        ],
        feedback_rows,
    )
    _copy(
        LabeledExample._meta.db_table,
        [
            "text",
            "text_sha256",
            "intent_id",
            "source",
            "status",
            "kustomer_conversation_id",
            "kustomer_message_id",
            "labelled_by",
            "labelled_at",
            "held_out_at",
        ],
        pending_examples,
    )

    # --- reviewers' past decisions -------------------------------------------------------------
    say(f"{decisions:,} past decisions of reviewers (relabels on the dataset page, skips)")
    relabelled = list(
        LabeledExample.objects.filter(id__gt=first_example_id, status="trusted")
        .order_by("?")
        .values_list("id", "intent_id", "kustomer_message_id", "labelled_by", "labelled_at")[
            : decisions * 2 // 3
        ]
    )
    decision_rows = []
    for example_id, intent_id, message_id, labelled_by, labelled_at in relabelled:
        decision_rows.append(
            LabelDecision(
                kind=LabelDecision.Kind.EXAMPLE,
                item_id=example_id,
                kustomer_message_id=message_id,
                action=LabelDecision.Action.LABEL,
                intent_id=intent_id,
                example_id=example_id,
                previous={
                    "intent_id": intent_id,
                    "status": "trusted",
                    "labelled_by": labelled_by,
                    "labelled_at": labelled_at.isoformat(),
                },
                decided_by=rng.choice(users[:3]),
            )
        )
    skipped = rng.sample(range(predictions), min(predictions, decisions - len(decision_rows)))
    for pk, message_id in Prediction.objects.filter(
        kustomer_message_id__in=[f"msg-{message_base + i}" for i in skipped]
    ).values_list("id", "kustomer_message_id"):
        decision_rows.append(
            LabelDecision(
                kind=LabelDecision.Kind.PREDICTION,
                item_id=pk,
                kustomer_message_id=message_id,
                action=LabelDecision.Action.SKIP,
                decided_by=rng.choice(users[:3]),
            )
        )
    made = LabelDecision.objects.bulk_create(decision_rows, batch_size=1000)
    with connection.cursor() as cursor:
        # Spread over the window (decided_at is set on insert).
        cursor.execute(
            "UPDATE intents_labeldecision SET decided_at = "
            "%s - (random() * %s) * interval '1 day' WHERE id = ANY(%s)",
            [now, days, [row.pk for row in made]],
        )

    # --- intents' history and imports from Kustomer ------------------------------------------
    say("intents' history, 5 imports from Kustomer (one waiting for its mapping)")
    with transaction.atomic():
        changes = [
            IntentChange(
                action=IntentChange.Action.CREATE, intent_id=intent_ids[name], performed_by=users[0]
            )
            for name in names[-20:]
        ]
        changes += [
            IntentChange(
                action=IntentChange.Action.DESCRIBE,
                intent_id=intent_ids[name],
                detail="",
                performed_by=users[1],
            )
            for name in names[:10]
        ]
        IntentChange.objects.bulk_create(changes)
        for index in range(5):
            values = [
                {
                    "value": name.replace("_", "-"),
                    "conversations": rng.randint(20, 900),
                    "sampled": 1,
                    "inbound_messages": rng.randint(20, 2000),
                    "examples": rng.randint(10, 900),
                }
                for name in rng.sample(names, 15)
            ]
            HistoryImport.objects.create(
                status=HistoryImport.Status.PREVIEWING if index == 0 else HistoryImport.Status.DONE,
                created_by=users[0],
                date_from=(now - timedelta(days=90 + 30 * index)).date(),
                date_to=(now - timedelta(days=30 * index)).date(),
                mapping={} if index == 0 else {v["value"]: v["value"].replace("-", "_") for v in values},  # noqa: E501
                preview={"total": 4000, "sample_size": 100, "sampled_messages": 12,
                         "without_value_in_sample": 3, "more_values": 20, "exact": False,
                         "values": values},
                conversations_total=0 if index == 0 else 4000,
                conversations_done=0 if index == 0 else 4000,
                messages_imported=0 if index == 0 else 3500,
            )  # fmt: skip
    with connection.cursor() as cursor:
        for table in ("intents_labeledexample", "intents_prediction", "intents_intentfeedback",
                      "intents_labeldecision", "intents_modelversiondataset"):  # fmt: skip
            cursor.execute(f"ANALYZE {table}")
    return BenchData(
        examples=examples + len(pending_examples),
        predictions=predictions,
        intents=len(names),
        feedback=len(feedback_rows),
        pending=len(review_first) + len(pending_examples),
        decisions=len(decision_rows),
        versions=[version.number for version in created_versions],
        label_issues=len(ModelVersionDataset.objects.get(version=v2).label_issues),
    )


def _label_issues(
    data: list[tuple[str, str]], names: list[str], rng: random.Random, *, limit: int
) -> list[dict]:
    """Suspected mislabels as training stores them: some of the version's examples, least
    self-confident first, each with a more probable intent that shares a word with its label."""
    issues = []
    for text, label in rng.sample(data, min(limit, len(data))):
        verb, obj = _parts(label)
        near = [name for name in names if name != label and (verb in name or obj in name)]
        suggestion = rng.choice(near or [name for name in names if name != label])
        label_probability = round(rng.uniform(0.01, 0.2), 4)
        suggestion_probability = round(rng.uniform(0.5, 0.9), 4)
        third = rng.choice([name for name in names if name not in (label, suggestion)])
        issues.append(
            {
                "text_sha256": text_fingerprint(text),
                "label": label,
                "label_probability": label_probability,
                "suggestion": suggestion,
                "suggestion_probability": suggestion_probability,
                "top": [
                    [suggestion, suggestion_probability],
                    [label, label_probability],
                    [third, round(rng.uniform(0.0, label_probability), 4)],
                ],
            }
        )
    issues.sort(key=lambda issue: issue["label_probability"])
    return issues
