"""A partial index for the drill-down of the "collected" figure (the payments of a period, paged).

The page lists the payments and payment reversals posted in a month, by date then id, 25 at a
time: without it PostgreSQL reads every entry of the month (rents included, ≈ 100 000 rows on the
benchmark base) to sort them. Partial, so the monthly billing batch, which writes no payment, does not
maintain it. Created concurrently: the ledger stays writable while it is built.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("dashboards", "0001_initial"),
        ("billing", "0007_history_on_people_and_money"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS dashboards_entry_payments ON billing_ledgerentry (posted_on, id)"
            " WHERE kind = 'payment' OR (kind = 'reversal' AND payment_id IS NOT NULL)",
            "DROP INDEX CONCURRENTLY IF EXISTS dashboards_entry_payments",
        ),
    ]
