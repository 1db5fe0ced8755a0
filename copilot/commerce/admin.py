"""Admin: connect stores, read the audit trail, and approve or reject large refunds."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from copilot.integrations.http import IntegrationError

from .approvals import refund_approval_decide
from .models import OrderAction, OrderActionEvent, RefundApproval, Store
from .selectors import stores_changed
from .stores import store_connect, store_disconnect, store_token_check, store_webhooks_register


class StoreForm(forms.ModelForm):
    api_base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Empty: https://<shop domain>. Set only to point at the fake Shopify.",
    )
    access_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The Admin API access token (shpat_...). Stored encrypted; leave empty to keep "
        "the current one.",
    )
    register_webhooks = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Subscribe our /shopify/webhooks/ (SHOPIFY_WEBHOOK_URL) to the store's orders, "
        "refunds and app/uninstalled topics.",
    )

    class Meta:
        model = Store
        fields = ("shop_domain", "name", "api_base_url")

    def clean(self):
        data = super().clean()
        token = data.get("access_token")
        if not self.instance.pk and not token:
            self.add_error("access_token", "A new store needs its access token.")
        if token and data.get("shop_domain"):
            try:
                shop = store_token_check(
                    shop_domain=data["shop_domain"],
                    access_token=token,
                    api_base_url=data.get("api_base_url") or "",
                )
            except IntegrationError as error:
                raise forms.ValidationError(f"Shopify refused this token: {error}") from error
            if not data.get("name"):
                data["name"] = shop.name
        return data


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreForm
    list_display = (
        "display_name",
        "shop_domain",
        "status",
        "webhooks_registered_at",
        "connected_at",
    )
    list_filter = ("status",)
    readonly_fields = (
        "status",
        "status_detail",
        "from_environment",
        "webhooks_registered_at",
        "connected_at",
        "disconnected_at",
    )
    actions = ("register_webhooks", "disconnect")

    def save_model(self, request, obj, form, change):
        token = form.cleaned_data.get("access_token")
        if token:
            store = store_connect(
                shop_domain=obj.shop_domain,
                access_token=token,
                name=obj.name,
                api_base_url=obj.api_base_url,
                verify=False,  # checked by the form
                register_webhooks=form.cleaned_data.get("register_webhooks", False),
            )
            obj.pk = store.pk
        else:
            super().save_model(request, obj, form, change)
            stores_changed()

    @admin.action(description="Register webhooks")
    def register_webhooks(self, request, queryset):
        for store in queryset:
            problems = store_webhooks_register(store_id=store.pk)
            if problems:
                messages.error(request, f"{store}: {'; '.join(problems)}")
            else:
                messages.success(request, f"{store}: webhooks registered.")

    @admin.action(description="Disconnect (forget the token)")
    def disconnect(self, request, queryset):
        for store in queryset:
            store_disconnect(store_id=store.pk, detail=f"Disconnected by {request.user}.")
        messages.success(request, f"{queryset.count()} store(s) disconnected.")


class OrderActionEventInline(admin.TabularInline):
    model = OrderActionEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "actor", "message")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrderAction)
class OrderActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ("created_at", "kind", "order_name", "amount", "status", "agent_name", "store")
    list_filter = ("kind", "status", "store")
    search_fields = ("order_name", "order_id", "agent_name", "customer_email", "conversation_id")
    inlines = (OrderActionEventInline,)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefundApproval)
class RefundApprovalAdmin(admin.ModelAdmin):
    list_display = (
        "requested_at",
        "order",
        "amount",
        "requested_by",
        "reason",
        "decision",
        "decided_by",
    )
    list_filter = ("decision",)
    actions = ("approve", "reject")
    readonly_fields = ("action", "decision", "decided_by", "decided_at", "requested_at")
    fields = ("action", "decision", "comment", "decided_by", "decided_at", "requested_at")

    @admin.display(description="order")
    def order(self, approval):
        return f"{approval.action.order_name} ({approval.action.store})"

    @admin.display(description="amount")
    def amount(self, approval):
        return f"{approval.action.amount} {approval.action.currency}"

    @admin.display(description="requested by")
    def requested_by(self, approval):
        return approval.action.agent_name

    @admin.display(description="reason")
    def reason(self, approval):
        return approval.action.reason

    def has_add_permission(self, request):
        return False

    def _decide(self, request, queryset, *, approve: bool):
        for approval in queryset:
            try:
                result = refund_approval_decide(
                    approval_id=approval.pk,
                    user=request.user,
                    approve=approve,
                    comment=approval.comment,
                )
            except PermissionDenied as error:
                messages.error(request, str(error))
                return
            messages.info(request, result.message)

    @admin.action(description="Approve and send the selected refunds")
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected refunds")
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)
