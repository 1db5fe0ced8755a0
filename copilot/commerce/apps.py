from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "copilot.commerce"
    label = "commerce"
    verbose_name = "Shopify orders and actions"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
