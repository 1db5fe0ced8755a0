"""Routes of the fake OpenAI-compatible server, mounted at `sandbox/llm/` when COPILOT_SANDBOX is
true. The client's base URL is `<server>/sandbox/llm/v1`."""

from django.urls import path

from . import views

app_name = "sandbox_llm"

urlpatterns = [
    path("v1/chat/completions", views.chat_completions, name="chat-completions"),
    path("v1/models", views.models_list, name="models"),
    path("_control/scenario", views.control_scenario, name="control-scenario"),
    path("_control/requests", views.control_requests, name="control-requests"),
    path("_control/reset", views.control_reset, name="control-reset"),
]
