from django.apps import AppConfig


class SandboxKustomerConfig(AppConfig):
    name = "copilot.sandbox_kustomer"
    label = "sandbox_kustomer"
    verbose_name = "Sandbox: fake Kustomer"
