from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "copilot.inbox"
    label = "inbox"
    verbose_name = "Kustomer inbox"
