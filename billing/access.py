"""Permission-checked lookups for billing objects (the only place that knows the rules)."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from tenancies.access import require_perm
from tenancies.models import Agency, Lease

from .imports import caf_lines_for_user
from .models import (
    Account,
    BankStatement,
    BankStatementLine,
    BillingRun,
    CafStatement,
    ChargeRegularisation,
    DirectDebitRun,
    Payment,
    RentNotice,
    RentRevision,
    RentRevisionLine,
    SlsSurvey,
)

VIEW_ACCOUNTS = "billing.view_accounts"
RECORD_PAYMENTS = "billing.record_payments"
RUN_BILLING = "billing.run_billing"
IMPORT_BANK = "billing.import_bank"
IMPORT_CAF = "billing.import_caf"
EXPORT_ACCOUNTING = "billing.export_accounting"
MANAGE_MANDATES = "billing.manage_mandates"
COLLECT_DIRECT_DEBITS = "billing.collect_direct_debits"
YEARLY_OPERATIONS = "billing.yearly_operations"
# What a letter's head needs from its lease.
LEASE_PRINT_RELATED = (
    "household__agency",
    "dwelling__building__estate__commune",
    "dwelling__building__estate__agency",
)


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


def get_agency_for_user(user, pk):
    """An agency the user works in (404 otherwise), e.g. for a run's per-agency PDF."""
    if not user.sees_all_agencies and int(pk) not in user.agency_ids:
        raise Http404
    return get_object_or_404(Agency, pk=pk)


def get_run_for_user(user, pk):
    """Billing runs cover every agency: only the roles that run billing see them."""
    require_perm(user, RUN_BILLING)
    return get_object_or_404(BillingRun, pk=pk)


# --- Permission-checked lookups -------------------------------------------------------------------
# Bank statements and their lines span every agency (the chargé du quittancement works across
# agencies): the permission is the only rule. A CAF line with a lease belongs to its agency.


def get_bank_statement_for_user(user, pk):
    require_perm(user, IMPORT_BANK)
    return get_object_or_404(BankStatement.objects.select_related("imported_by"), pk=pk)


def get_bank_line_for_user(user, pk):
    require_perm(user, IMPORT_BANK)
    return get_object_or_404(BankStatementLine.objects.select_related("statement"), pk=pk)


def get_caf_statement_for_user(user, pk):
    require_perm(user, IMPORT_CAF)
    return get_object_or_404(CafStatement.objects.select_related("imported_by"), pk=pk)


def get_caf_line_for_user(user, pk):
    require_perm(user, IMPORT_CAF)
    return get_object_or_404(caf_lines_for_user(user).select_related("statement", "lease"), pk=pk)


# --- SEPA ----


def get_mandate_account_for_user(user, pk):
    """The account whose mandates the user manages: 403 for other roles, 404 outside their agencies."""
    require_perm(user, MANAGE_MANDATES)
    return get_account_for_user(user, pk)


def get_direct_debit_run_for_user(user, pk):
    """Collections cover every agency: only the roles that collect see them."""
    require_perm(user, COLLECT_DIRECT_DEBITS)
    return get_object_or_404(DirectDebitRun.objects.select_related("created_by"), pk=pk)


# --- Yearly operations ----


def get_revision_line_for_user(user, pk) -> RentRevisionLine:
    require_perm(user, YEARLY_OPERATIONS)
    qs = RentRevisionLine.objects.filter(lease__in=Lease.objects.for_user(user)).select_related(
        "revision__irl_reference", "revision__irl_new"
    )
    return get_object_or_404(qs, pk=pk)


def get_survey_for_user(user, pk) -> SlsSurvey:
    require_perm(user, YEARLY_OPERATIONS)
    qs = SlsSurvey.objects.filter(lease__in=Lease.objects.for_user(user)).select_related(
        *(f"lease__{p}" for p in LEASE_PRINT_RELATED)
    )
    return get_object_or_404(qs, pk=pk)


def get_revision_for_user(user, pk):
    """Revisions cover every agency: the permission is the only rule."""
    require_perm(user, YEARLY_OPERATIONS)
    return get_object_or_404(
        RentRevision.objects.select_related("irl_reference", "irl_new", "created_by", "applied_by"), pk=pk
    )


def get_regularisation_for_user(user, pk):
    require_perm(user, YEARLY_OPERATIONS)
    return get_object_or_404(
        ChargeRegularisation.objects.select_related("building__estate__agency", "created_by"), pk=pk
    )
