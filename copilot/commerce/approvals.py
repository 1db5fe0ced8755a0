"""A supervisor's decision on a refund above SHOPIFY_REFUND_APPROVAL_THRESHOLD: from the admin
(a staff user with `commerce.decide_refundapproval`) or from the card (a Kustomer agent whom
SHOPIFY_ACTION_PERMISSIONS allows `refund_approve`)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from copilot.agents import Agent

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
from .permissions import REFUND_APPROVE, agent_may


def refund_approval_decide(
    *,
    approval_id: int,
    approve: bool,
    comment: str = "",
    user=None,
    agent: Agent | None = None,
) -> ActionResult:
    """A supervisor approves (the refund is then sent in the background) or rejects a refund:
    a staff `user` with the `commerce.decide_refundapproval` permission, or a card `agent`
    allowed `refund_approve`. Deciding twice changes nothing."""
    if agent is not None:
        allowed = agent_may(agent, REFUND_APPROVE)
        supervisor = agent.display_name
    else:
        allowed = user is not None and user.has_perm("commerce.decide_refundapproval")
        supervisor = (user.get_full_name() or user.get_username()) if user is not None else ""
    if not allowed:
        raise PermissionDenied("You may not approve or reject refunds.")
    decision = RefundApproval.Decision.APPROVED if approve else RefundApproval.Decision.REJECTED
    with transaction.atomic():
        decided = RefundApproval.objects.filter(
            pk=approval_id, decision=RefundApproval.Decision.PENDING
        ).update(
            decision=decision,
            decided_by=user if agent is None else None,
            decided_by_agent_id=agent.id if agent is not None else "",
            decided_at=timezone.now(),
            comment=comment,
        )
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
