from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views
from .inbox.views import kustomer_webhook

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("kustomer/webhooks/", kustomer_webhook, name="kustomer-webhook"),
    path("shopify/webhooks/", include("copilot.commerce.urls")),
    path("admin/", admin.site.urls),
]

if settings.COPILOT_SANDBOX:
    urlpatterns += [path("sandbox/kustomer/", include("copilot.sandbox_kustomer.urls"))]
    urlpatterns += [path("sandbox/shopify/", include("copilot.sandbox_shopify.urls"))]
    urlpatterns += [path("sandbox/llm/", include("copilot.sandbox_llm.urls"))]
