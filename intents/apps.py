from django.apps import AppConfig


class IntentsConfig(AppConfig):
    name = "intents"
    verbose_name = "Intents"

    def ready(self) -> None:
        from copilot import queueing

        from .services import TRAINING_RUN

        queueing.register(TRAINING_RUN)
