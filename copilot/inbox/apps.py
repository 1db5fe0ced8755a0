from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "copilot.inbox"
    label = "inbox"
    verbose_name = "Kustomer inbox"

    def ready(self) -> None:
        from copilot import queueing

        from .services import MESSAGE_PIPELINE

        queueing.register(MESSAGE_PIPELINE)
