"""The internal note an order action leaves on its Kustomer conversation, once per status that
calls for one (`NOTE_STATUSES`): "Refunded $42.00 on #1042 — Arrived damaged — by Ada Agent".

`note_pending` on the row says the current status's note is owed; it is set by `status_set`
and cleared here once the note is written, or when writing it finally failed.
"""

from django.db import transaction

from .action_lifecycle import (
    Kind,
    Status,
    action_event,
    amount_display,
    note_owed,
    order_label,
)
from .models import OrderAction


def order_action_note_body(action: OrderAction) -> str:
    """The internal note for the action's current state, e.g.
    "Refunded $42.00 on #1042 — Arrived damaged — by Ada Agent"."""
    order = order_label(action)
    money = amount_display(action)
    reason = f" — {action.reason.strip()}" if action.reason.strip() else ""
    by = f" — by {action.agent_name or action.agent_id}"
    approval = getattr(action, "approval", None)
    supervisor_name = ""
    if approval and approval.decided_by:
        supervisor_name = approval.decided_by.get_full_name() or approval.decided_by.get_username()
    if action.status == Status.AWAITING_APPROVAL:
        return (
            f"Refund of {money} on {order} is waiting for a supervisor's approval"
            f"{reason} — requested by {action.agent_name or action.agent_id}"
        )
    if action.status == Status.REJECTED:
        supervisor = f" by {supervisor_name}" if supervisor_name else ""
        comment = f": {approval.comment}" if approval and approval.comment else ""
        return (
            f"Refund of {money} on {order} was not approved{supervisor}{comment}"
            f" — requested by {action.agent_name or action.agent_id}"
        )
    if action.kind == Kind.REFUND:
        approved = f", approved by {supervisor_name}" if supervisor_name else ""
        return f"Refunded {money} on {order}{reason}{by}{approved}"
    if action.kind == Kind.CANCEL:
        details = action.result_message.partition("(")[2].rstrip(".)")
        return f"Cancelled {order}" + (f" ({details})" if details else "") + f"{reason}{by}"
    if action.kind == Kind.ADDRESS_UPDATE:
        lines = ", ".join(action.params.get("address_lines") or [])
        return f"Changed the shipping address of {order} to {lines}{reason}{by}"
    return (
        f"Sent the invoice of {order} again to {action.params.get('sent_to', 'the customer')}{by}"
    )


def order_action_note_write(*, action_id: int, client) -> bool:
    """Writes the note the action owes for its current status, once: the external id names the
    row and the status, and `client.write_note` (Kustomer's) takes Kustomer's refusal of a
    duplicate external id as written, so a retry whose first attempt did write adds nothing and
    is recorded as written. Returns whether a note was written now."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    status = action.status
    if not note_owed(action):
        _note_settle(action_id)
        return False
    client.write_note(
        action.conversation_id,
        body=order_action_note_body(action),
        external_id=f"copilot-shopify-action-{action.pk}-{status}",
    )
    _note_settle(action_id, written=status)
    return True


def order_action_note_failed(*, action_id: int, error: str) -> None:
    """Writing the note finally failed (Kustomer refused it, or its retries ran out)."""
    with transaction.atomic():
        action = OrderAction.objects.select_for_update().get(pk=action_id)
        action.note_pending = False
        action.save(update_fields=["note_pending"])
        action_event(action, "note_failed", error)


def _note_settle(action_id: int, *, written: str = "") -> None:
    """Records the note written for status `written` (if any), and whether the status the action
    has now still owes one (it may have moved on meanwhile)."""
    with transaction.atomic():
        action = OrderAction.objects.select_for_update().get(pk=action_id)
        fields = ["note_pending"]
        if written:
            if written not in (action.notes_written or []):
                action.notes_written = [*(action.notes_written or []), written]
            fields += ["notes_written", "updated_at"]
        action.note_pending = note_owed(action)
        action.save(update_fields=fields)
        if written:
            action_event(action, "note_written", written)
