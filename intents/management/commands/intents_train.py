from django.core.management.base import BaseCommand, CommandError

from intents.models import ModelVersion
from intents.services import (
    ActivationError,
    model_version_activate,
    model_version_create,
    model_version_train,
)


class Command(BaseCommand):
    help = "Trains a new model version from the trusted labelled examples and prints its metrics."

    def add_arguments(self, parser):
        parser.add_argument(
            "--activate", action="store_true", help="make the new version the active model"
        )

    def handle(self, *args, **options):
        version = model_version_create()
        self.stdout.write(f"Training model version v{version.number}...")
        version = model_version_train(version_id=version.id)
        if version.status == ModelVersion.Status.FAILED:
            raise CommandError(f"Model version v{version.number} failed: {version.failure_reason}")
        metrics = version.training_metrics
        self.stdout.write(
            f"v{version.number}: {version.training_size} examples, {metrics.n_labels} intents; "
            f"accuracy {metrics.accuracy:.1%}, macro-F1 {metrics.macro_f1:.1%} "
            f"({metrics.protocol or 'held-out data'}); "
            f"abstains below {metrics.threshold:.2f} confidence, answering "
            f"{metrics.coverage:.1%} of messages at {metrics.precision_at_threshold:.1%} "
            "precision."
        )
        weakest = sorted(metrics.per_intent.items(), key=lambda item: item[1].f1)[:5]
        self.stdout.write(
            "Weakest intents (F1): "
            + ", ".join(f"{name} {scores.f1:.0%}" for name, scores in weakest)
        )
        if options["activate"]:
            try:
                model_version_activate(version_id=version.id)
            except ActivationError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS(f"v{version.number} is now the active model."))
