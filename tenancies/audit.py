"""The read log of sensitive records (issue 8: one row per view, no personal data in it)."""

from tenancies.models import ReadLog


def log_read(user, record, *, purpose: str = "") -> None:
    """Record that `user` opened `record` (any model instance). Call it from the view, after the
    permission-checked lookup succeeded, once per page view."""
    ReadLog.objects.create(user=user, record_type=record._meta.label_lower, record_id=record.pk, purpose=purpose[:60])
