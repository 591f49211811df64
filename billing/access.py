"""Permission-checked lookups for billing objects (the only place that knows the rules)."""

from django.shortcuts import get_object_or_404

from tenancies.access import require_perm

from .models import Account, BillingRun, Payment, RentNotice

VIEW_ACCOUNTS = "billing.view_accounts"
RECORD_PAYMENTS = "billing.record_payments"
RUN_BILLING = "billing.run_billing"


def get_account_for_user(user, pk, *, write: bool = False):
    require_perm(user, RECORD_PAYMENTS if write else VIEW_ACCOUNTS)
    qs = Account.objects.for_user(user).select_related("lease__household", "lease__dwelling__building__estate")
    return get_object_or_404(qs, pk=pk)


def get_notice_for_user(user, pk):
    require_perm(user, VIEW_ACCOUNTS)
    return get_object_or_404(RentNotice.objects.for_user(user).select_related("lease", "account"), pk=pk)


def get_payment_for_user(user, pk):
    require_perm(user, VIEW_ACCOUNTS)
    return get_object_or_404(Payment.objects.for_user(user).select_related("account__lease"), pk=pk)


def get_run_for_user(user, pk):
    """Billing runs cover every agency: only the roles that run billing see them."""
    require_perm(user, RUN_BILLING)
    return get_object_or_404(BillingRun, pk=pk)
