from django.apps import AppConfig


class SandboxShopifyConfig(AppConfig):
    name = "copilot.sandbox.shopify"
    label = "sandbox_shopify"
    verbose_name = "Sandbox: fake Shopify"
