from datetime import date
from decimal import Decimal

from django import forms

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
    amount = forms.DecimalField(
        label="Montant (€)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
        error_messages={
            "min_value": "Le montant doit être supérieur à zéro.",
            "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales.",
            "invalid": "Saisissez un montant, par exemple 412,50.",
        },
    )
    received_on = forms.DateField(
        label="Reçu le",
        widget=forms.DateInput(attrs={"placeholder": "jj/mm/aaaa"}, format="%d/%m/%Y"),
        error_messages={"invalid": "Saisissez une date au format jj/mm/aaaa."},
    )
    method = forms.ChoiceField(label="Mode de paiement", choices=PaymentMethod.choices)
    reference = forms.CharField(label="Référence (n° de chèque, libellé du virement…)", max_length=100, required=False)
    # One-time token: a double-submitted form records one payment.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
