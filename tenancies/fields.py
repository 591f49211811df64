"""Form fields shared by every app: French dates and amounts, with French error messages."""

from decimal import Decimal

from django import forms

DATE_ERRORS = {"invalid": "Saisissez une date au format jj/mm/aaaa.", "required": "Saisissez une date."}


class FrenchDateField(forms.DateField):
    """A date typed as jj/mm/aaaa (ISO also accepted)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"placeholder": "jj/mm/aaaa"}, format="%d/%m/%Y"))
        kwargs["error_messages"] = {**DATE_ERRORS, **kwargs.get("error_messages", {})}
        super().__init__(*args, **kwargs)


class AmountField(forms.DecimalField):
    """An amount in euros, 2 decimals, typed the French way ("1 234,50"; spaces between thousands)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        kwargs["error_messages"] = {
            "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales.",
            "invalid": "Saisissez un montant, par exemple 412,50.",
            **kwargs.get("error_messages", {}),
        }
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = "".join(value.split())
        return super().to_python(value)


POSITIVE = {"min_value": Decimal("0.01"), "error_messages": {"min_value": "Le montant doit être supérieur à zéro."}}
