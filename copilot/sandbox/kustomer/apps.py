from django.apps import AppConfig


class SandboxKustomerConfig(AppConfig):
    name = "copilot.sandbox.kustomer"
    label = "sandbox_kustomer"
    verbose_name = "Sandbox: fake Kustomer"
