"""A supervisor's decision on a refund above SHOPIFY_REFUND_APPROVAL_THRESHOLD (from the admin)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .action_lifecycle import (
    ORDER_ACTION_EXECUTION,
    ActionResult,
    Status,
    action_event,
    action_result,
    amount_display,
    order_label,
    status_set,
)
from .models import RefundApproval


def refund_approval_decide(
    *, approval_id: int, user, approve: bool, comment: str = ""
) -> ActionResult:
    """A supervisor approves (the refund is then sent in the background) or rejects a refund.
    Needs the `commerce.decide_refundapproval` permission; deciding twice changes nothing."""
    if not user.has_perm("commerce.decide_refundapproval"):
        raise PermissionDenied("You may not approve or reject refunds.")
    decision = RefundApproval.Decision.APPROVED if approve else RefundApproval.Decision.REJECTED
    supervisor = user.get_full_name() or user.get_username()
    with transaction.atomic():
        decided = RefundApproval.objects.filter(
            pk=approval_id, decision=RefundApproval.Decision.PENDING
        ).update(decision=decision, decided_by=user, decided_at=timezone.now(), comment=comment)
        approval = RefundApproval.objects.select_related("action__store").get(pk=approval_id)
        action = approval.action
        if not decided or action.status != Status.AWAITING_APPROVAL:
            return action_result(action)
        refund = f"the refund of {amount_display(action)} on {order_label(action)}"
        if approve:
            action_event(action, "approved", comment, actor=supervisor)
            return status_set(
                action,
                Status.QUEUED,
                f"{supervisor} approved {refund}; it is being sent.",
                queue=ORDER_ACTION_EXECUTION,
            )
        action_event(action, "rejected", comment, actor=supervisor)
        message = f"{supervisor} did not approve {refund}"
        return status_set(
            action, Status.REJECTED, f"{message}: {comment}." if comment else f"{message}."
        )
