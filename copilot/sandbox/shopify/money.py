"""Totals of a fake order, computed from its rows the way Shopify reports them."""

from dataclasses import dataclass
from decimal import Decimal

from .models import Order, Transaction

ZERO = Decimal("0.00")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class OrderTotals:
    subtotal: Decimal  # as ordered
    current_subtotal: Decimal  # after refunded and cancelled items are removed
    shipping: Decimal
    total: Decimal
    current_total: Decimal
    captured: Decimal  # money received (sales and captures)
    authorized: Decimal  # authorised, not captured
    refunded: Decimal  # money given back
    shipping_refundable: Decimal

    @property
    def net_payment(self) -> Decimal:
        return max(self.captured - self.refunded, ZERO)


def order_totals(order: Order) -> OrderTotals:
    """Reads prefetched relations when they are there (`line_items`, `transactions`)."""
    line_items = list(order.line_items.all())
    transactions = [t for t in order.transactions.all() if t.status == "SUCCESS"]
    subtotal = sum((item.price * item.quantity for item in line_items), ZERO)
    current_subtotal = sum((item.price * item.refundable_quantity for item in line_items), ZERO)
    captured = sum(
        (
            t.amount
            for t in transactions
            if t.kind in (Transaction.Kind.SALE, Transaction.Kind.CAPTURE)
        ),
        ZERO,
    )
    authorized = sum(
        (t.amount for t in transactions if t.kind == Transaction.Kind.AUTHORIZATION), ZERO
    )
    refunded = sum((t.amount for t in transactions if t.kind == Transaction.Kind.REFUND), ZERO)
    shipping_refundable = max(order.shipping_price - order.shipping_refunded, ZERO)
    if order.cancelled_at:
        current_subtotal = ZERO
        current_total = ZERO
    else:
        current_total = current_subtotal + shipping_refundable
    return OrderTotals(
        subtotal=subtotal,
        current_subtotal=current_subtotal,
        shipping=order.shipping_price,
        total=subtotal + order.shipping_price,
        current_total=current_total,
        captured=captured,
        authorized=authorized,
        refunded=refunded,
        shipping_refundable=shipping_refundable,
    )


def financial_status(order: Order) -> str:
    totals = order_totals(order)
    if totals.captured <= ZERO:
        if totals.authorized > ZERO:
            return Order.FinancialStatus.VOIDED if order.cancelled_at else "AUTHORIZED"
        return Order.FinancialStatus.PENDING
    if totals.refunded >= totals.captured:
        return Order.FinancialStatus.REFUNDED
    if totals.refunded > ZERO:
        return Order.FinancialStatus.PARTIALLY_REFUNDED
    return Order.FinancialStatus.PAID


def refundable_by_parent(order: Order) -> list[tuple[Transaction, Decimal]]:
    """Each sale or capture with what can still be refunded against it, oldest first."""
    transactions = [t for t in order.transactions.all() if t.status == "SUCCESS"]
    refunded_by_parent: dict[int, Decimal] = {}
    for transaction in transactions:
        if transaction.kind == Transaction.Kind.REFUND and transaction.parent_id:
            refunded_by_parent[transaction.parent_id] = (
                refunded_by_parent.get(transaction.parent_id, ZERO) + transaction.amount
            )
    return [
        (t, max(t.amount - refunded_by_parent.get(t.pk, ZERO), ZERO))
        for t in transactions
        if t.kind in (Transaction.Kind.SALE, Transaction.Kind.CAPTURE)
    ]


def money(amount: Decimal, currency_code: str) -> dict:
    """A `MoneyV2`: amounts are strings."""
    return {"amount": str(amount.quantize(CENTS)), "currencyCode": currency_code}


def money_bag(amount: Decimal, currency_code: str) -> dict:
    value = money(amount, currency_code)
    return {"shopMoney": value, "presentmentMoney": value}
