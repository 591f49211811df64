"""The dashboards' snapshot: additive monthly figures per agency, and the refreshes that wrote them.

Pages never aggregate the ledger or the stock: they read `MonthlyFigure` rows (a few hundred at
most) and derive rates from summed components, so any period (month, quarter, year) and any set
of agencies is exact without a second pre-aggregation.
"""

from django.db import models

from tenancies.models import Agency


class Refresh(models.Model):
    """One computation of the snapshot (nightly, after a billing run, or by hand)."""

    computed_at = models.DateTimeField("calculé le")
    as_of = models.DateField("situation au")
    first_month = models.DateField("premier mois recalculé")
    last_month = models.DateField("dernier mois recalculé")
    full = models.BooleanField("recalcul complet", default=False)
    duration_ms = models.PositiveIntegerField("durée (ms)", default=0)
    rows_scanned = models.BigIntegerField("lignes lues", default=0)
    # The highest ledger entry id seen: the next refresh starts from the months of newer entries.
    last_entry_id = models.BigIntegerField(default=0)
    reason = models.CharField("origine", max_length=40, blank=True)

    class Meta:
        verbose_name = "calcul des tableaux de bord"
        ordering = ["-computed_at", "-id"]

    def __str__(self):
        return f"Tableaux de bord calculés le {self.computed_at:%d/%m/%Y %H:%M}"


class MonthlyFigure(models.Model):
    """One additive component (a sum or a count) of one agency for one month.

    Flow components (billed, collected, vacant days…) add up over months; stock components
    (dwellings by status, outstanding at month end) are read at the last month of a period.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    month = models.DateField("mois")
    key = models.CharField("composante", max_length=40)
    value = models.DecimalField("valeur", max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = "chiffre mensuel"
        constraints = [models.UniqueConstraint(fields=["month", "agency", "key"], name="monthly_figure_unique")]

    def __str__(self):
        return f"{self.agency_id} {self.month:%m/%Y} {self.key} = {self.value}"
