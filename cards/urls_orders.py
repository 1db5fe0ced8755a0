"""The Orders section's fragments and the order actions (included by `cards.urls`)."""

from django.urls import path

from . import orders

ORDER = "orders/<int:store_id>/<int:order_id>"

urlpatterns = [
    path("fragments/orders", orders.orders_fragment, name="orders"),
    path(f"{ORDER}/actions", orders.order_actions, name="orders-actions"),
    path(f"{ORDER}/refund", orders.refund_start, name="orders-refund"),
    path(f"{ORDER}/refund/review", orders.refund_review, name="orders-refund-review"),
    path(f"{ORDER}/refund/confirm", orders.refund_confirm, name="orders-refund-confirm"),
    path(f"{ORDER}/cancel", orders.cancel_start, name="orders-cancel"),
    path(f"{ORDER}/cancel/confirm", orders.cancel_confirm, name="orders-cancel-confirm"),
    path(f"{ORDER}/address", orders.address_start, name="orders-address"),
    path(f"{ORDER}/address/confirm", orders.address_confirm, name="orders-address-confirm"),
    path(f"{ORDER}/invoice", orders.invoice_start, name="orders-invoice"),
    path(f"{ORDER}/invoice/confirm", orders.invoice_confirm, name="orders-invoice-confirm"),
    path(
        "approvals/<int:approval_id>/decide",
        orders.approval_decide,
        name="orders-approval-decide",
    ),
]
