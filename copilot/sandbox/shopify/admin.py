from django.contrib import admin, messages

from . import models, services


@admin.register(models.Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "installed", "read_all_orders", "currency_code")
    actions = ("uninstall_app",)

    @admin.action(description="Uninstall the app (revokes the token, sends app/uninstalled)")
    def uninstall_app(self, request, queryset):
        for shop in queryset:
            services.shop_app_uninstall(shop=shop)
        messages.success(request, f"Uninstalled from {queryset.count()} shop(s).")


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "shop")
    search_fields = ("email", "first_name", "last_name")


class LineItemInline(admin.TabularInline):
    model = models.LineItem
    extra = 0


class FulfillmentInline(admin.TabularInline):
    model = models.Fulfillment
    extra = 0


class TransactionInline(admin.TabularInline):
    model = models.Transaction
    fk_name = "order"
    extra = 0
    readonly_fields = ("kind", "status", "gateway", "amount", "parent", "refund", "created_at")


@admin.register(models.Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "email",
        "financial_status",
        "fulfillment_status",
        "cancelled_at",
        "created_at",
        "shop",
    )
    list_filter = ("financial_status", "fulfillment_status", "shop")
    search_fields = ("email", "number")
    inlines = (LineItemInline, FulfillmentInline, TransactionInline)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # An order changed by hand is announced like any other change.
        services.order_touch(order=obj)


@admin.register(models.WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("topic", "uri", "shop", "created_at")


@admin.register(models.InvoiceEmail)
class InvoiceEmailAdmin(admin.ModelAdmin):
    list_display = ("order", "to", "subject", "sent_at")


@admin.register(models.Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "order", "created_at", "done_at", "completed_at")


@admin.register(models.Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("order", "total_amount", "shipping_amount", "idempotency_key", "created_at")
