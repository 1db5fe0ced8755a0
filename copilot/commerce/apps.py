from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "copilot.commerce"
    label = "commerce"
    verbose_name = "Shopify orders and actions"

    def ready(self) -> None:
        from copilot import queueing

        # The system checks register themselves; the tasks are queued by name, and found in
        # process (when tasks run eagerly) as a worker finds them.
        from . import checks, tasks  # noqa: F401
        from .action_lifecycle import (
            ORDER_ACTION_EXECUTION,
            ORDER_ACTION_NOTE,
            ORDER_CANCEL_FOLLOWING,
        )

        queueing.register(ORDER_ACTION_EXECUTION)
        queueing.register(ORDER_CANCEL_FOLLOWING)
        queueing.register(ORDER_ACTION_NOTE)
