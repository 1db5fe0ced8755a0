from django.apps import AppConfig


class SandboxLlmConfig(AppConfig):
    name = "copilot.sandbox.llm"
    label = "sandbox_llm"
    verbose_name = "Sandbox: fake OpenAI-compatible server"
