from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "copilot.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from copilot import queueing

        from .services import EVENT_PROCESSING

        queueing.register(EVENT_PROCESSING)
