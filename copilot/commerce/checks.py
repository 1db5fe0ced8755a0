"""System checks: Shopify settings that would fail later are reported at start-up."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .encryption import _fernet, configured_keys
from .permissions import ACTIONS, REFUND_APPROVE


@register()
def shopify_settings(app_configs=None, **kwargs):
    problems = []
    try:
        _fernet(configured_keys())
    except ImproperlyConfigured as error:
        problems.append(Error(str(error), id="commerce.E001"))
    try:
        Decimal(str(settings.SHOPIFY_REFUND_APPROVAL_THRESHOLD))
    except InvalidOperation:
        problems.append(
            Error(
                "SHOPIFY_REFUND_APPROVAL_THRESHOLD must be an amount, e.g. 100.00.",
                id="commerce.E002",
            )
        )
    permissions = settings.SHOPIFY_ACTION_PERMISSIONS
    if not isinstance(permissions, dict) or not all(
        isinstance(grants, list) for grants in permissions.values()
    ):
        problems.append(
            Error(
                'SHOPIFY_ACTION_PERMISSIONS must map actions to lists, e.g. {"refund": ["*"]}.',
                id="commerce.E003",
            )
        )
    elif unknown := set(permissions) - {*ACTIONS, REFUND_APPROVE}:
        problems.append(
            Warning(
                f"SHOPIFY_ACTION_PERMISSIONS names unknown actions: {', '.join(sorted(unknown))} "
                f"(known: {', '.join((*ACTIONS, REFUND_APPROVE))}).",
                id="commerce.W002",
            )
        )
    if not settings.SHOPIFY_WEBHOOK_SECRET:
        problems.append(
            Warning(
                "SHOPIFY_WEBHOOK_SECRET is not set: every Shopify webhook will be refused (401) "
                "and cached orders only expire after SHOPIFY_ORDER_CACHE_SECONDS.",
                id="commerce.W001",
            )
        )
    return problems
