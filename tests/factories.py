"""Small labelled data made for the tests (the public datasets are never used in tests)."""

import itertools

from intents.importing import LabelledRow

_PHRASES = {
    "track_order": [
        "where is my order {n}",
        "has order #{n} shipped yet",
        "tracking for {n} has not moved in days",
        "when will my package {n} arrive",
        "can you check the delivery status of order {n}",
        "my parcel {n} is still not here, where is it",
    ],
    "get_refund": [
        "i want my money back for order {n}",
        "please refund order #{n}",
        "can I get a refund for {n}, it was not what I expected",
        "requesting a refund on purchase {n}",
        "refund me for order {n} please",
        "I would like to be reimbursed for order {n}",
    ],
    "cancel_order": [
        "cancel order {n} please",
        "I need to cancel my purchase #{n}",
        "please stop order {n} before it ships",
        "how do I cancel order {n}",
        "I changed my mind, cancel {n}",
        "do not send order {n}, cancel it",
    ],
    "change_shipping_address": [
        "change the shipping address on order {n}",
        "I moved, please update the address for {n}",
        "wrong address on order #{n}, can you fix it",
        "ship order {n} to my new address instead",
        "update delivery address of order {n}",
        "the street on order {n} is wrong, please correct it",
    ],
}


def labelled_rows(intents: list[str] | None = None, per_intent: int = 18) -> list[LabelledRow]:
    """`per_intent` distinct examples for each intent, varied by order number and phrasing."""
    rows = []
    for intent in intents or list(_PHRASES):
        phrases = itertools.cycle(_PHRASES[intent])
        for index in range(per_intent):
            text = next(phrases).format(n=1000 + index * 7)
            rows.append(LabelledRow(text=text, intent=intent, row=len(rows) + 1))
    return rows
