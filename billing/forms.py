from datetime import date

from django import forms

from tenancies.fields import POSITIVE, AmountField, FrenchDateField

from . import batch
from .models import PaymentMethod


class LaunchRunForm(forms.Form):
    period = forms.CharField(
        label="Mois à facturer",
        help_text="Format AAAA-MM, par exemple 2026-12. Au plus un mois d'avance.",
        widget=forms.TextInput(attrs={"placeholder": "AAAA-MM"}),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        if not self.is_bound:
            self.initial.setdefault("period", today.strftime("%Y-%m"))

    def clean_period(self):
        try:
            period = batch.parse_period(self.cleaned_data["period"])
            batch.check_period(period, self.today)
        except batch.BillingError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return period


class PaymentForm(forms.Form):
    amount = AmountField(label="Montant (€)", **POSITIVE)
    received_on = FrenchDateField(label="Reçu le")
    method = forms.ChoiceField(label="Mode de paiement", choices=PaymentMethod.choices)
    reference = forms.CharField(label="Référence (n° de chèque, libellé du virement…)", max_length=100, required=False)
    # One-time token: a double-submitted form records one payment.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
