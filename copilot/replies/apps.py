from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "copilot.replies"
    label = "replies"
    verbose_name = "Suggested replies"

    def ready(self) -> None:
        from copilot import queueing

        from .services import DRAFT_REGENERATION

        queueing.register(DRAFT_REGENERATION)
