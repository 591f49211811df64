"""Billing panels for pages of lower apps (the fiche locataire), without an upward import."""

from django import template

from billing.access import VIEW_ACCOUNTS
from billing.models import Account
from billing.services import notices_with_paid

register = template.Library()


@register.inclusion_tag("billing/_account_panel.html", takes_context=True)
def account_panel(context, lease):
    """Balance, last notices and payments of a lease the page has already access-checked."""
    user = context["request"].user
    if not user.has_perm(VIEW_ACCOUNTS):
        return {"allowed": False, "lease": lease}
    account = Account.objects.filter(lease=lease).first()
    if account is None:
        return {"allowed": True, "lease": lease, "account": None}
    return {
        "allowed": True,
        "lease": lease,
        "account": account,
        "notices": list(notices_with_paid(account.notices.all()).order_by("-period")[:3]),
        "payments": list(account.payments.order_by("-received_on", "-id")[:3]),
    }
