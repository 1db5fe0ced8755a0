from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "copilot.replies"
    label = "replies"
    verbose_name = "Suggested replies"
