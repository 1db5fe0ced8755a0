from django.urls import path

from . import views

urlpatterns = [
    # Mounted at /shopify/webhooks/ (copilot/urls.py): where Shopify sends every topic.
    path("", views.shopify_webhook, name="shopify-webhook"),
]
