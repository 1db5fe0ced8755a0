from django.apps import AppConfig


class IntentsConfig(AppConfig):
    name = "intents"
    verbose_name = "Intents"

    def ready(self) -> None:
        from copilot import queueing

        from . import history_tasks  # noqa: F401  (a task module autodiscovery does not find)
        from .history_import import HISTORY_IMPORT_RUN
        from .services import TRAINING_RUN

        queueing.register(TRAINING_RUN)
        queueing.register(HISTORY_IMPORT_RUN)
