from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views
from .webhooks.services import vendors
from .webhooks.views import webhook_intake

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("status/workers", views.worker_status_view, name="worker-status"),
    path("kustomer/webhooks/", webhook_intake(vendors()["kustomer"]), name="kustomer-webhook"),
    path("shopify/webhooks/", webhook_intake(vendors()["shopify"]), name="shopify-webhook"),
    path("admin/", admin.site.urls),
    path("card/", include("cards.urls")),
    path("training/", include("intents.urls")),
]

# The fakes are mounted only where they are installed (settings.COPILOT_SANDBOX).
if settings.COPILOT_SANDBOX:
    urlpatterns += [
        path("sandbox/kustomer/", include("copilot.sandbox.kustomer.urls")),
        path("sandbox/shopify/", include("copilot.sandbox.shopify.urls")),
        path("sandbox/llm/", include("copilot.sandbox.llm.urls")),
    ]
