"""Forms of the yearly operations: they clean and check fields; billing.yearly decides and writes."""

from datetime import date
from decimal import Decimal

from django import forms

from tenancies.fields import AmountField, FrenchDateField
from tenancies.models import Building, ChargeType

from .models import AllocationKey
from .yearly import HOUSEHOLD_CATEGORIES


class RevisionForm(forms.Form):
    effective_on = FrenchDateField(
        label="Date d'effet", help_text="Le 1er janvier de l'année de révision (jj/mm/aaaa)."
    )
    rate_pct = forms.DecimalField(
        label="Hausse votée (%)",
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal("0"),
        localize=True,
        help_text="Laisser vide pour appliquer le plafond : la variation de l'IRL du 2e trimestre de l'année "
        "précédente sur un an. Le conseil peut voter moins, jamais plus.",
        error_messages={
            "min_value": "La hausse ne peut pas être négative.",
            "max_decimal_places": "La hausse a au plus quatre décimales (ex. 1,04).",
            "invalid": "Saisissez un pourcentage, par exemple 1,04.",
        },
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("effective_on", date(today.year + 1, 1, 1))

    def clean_effective_on(self):
        effective_on = self.cleaned_data["effective_on"]
        if (effective_on.month, effective_on.day) != (1, 1):
            raise forms.ValidationError(
                "La révision des loyers prend effet au 1er janvier : saisissez une date au 01/01."
            )
        return effective_on

    @property
    def rate(self) -> Decimal | None:
        pct = self.cleaned_data.get("rate_pct")
        return None if pct is None else pct / 100


class RegularisationForm(forms.Form):
    building = forms.ModelChoiceField(
        label="Bâtiment",
        queryset=Building.objects.select_related("estate").order_by("estate__name", "name"),
        empty_label="Choisir un bâtiment",
        error_messages={"required": "Choisissez le bâtiment.", "invalid_choice": "Bâtiment inconnu."},
    )
    year = forms.IntegerField(
        label="Exercice",
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": "Saisissez une année, par exemple 2025.", "required": "Saisissez l'exercice."},
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("year", today.year - 1)


class ChargeCostForm(forms.Form):
    charge_type = forms.ModelChoiceField(
        label="Type de charge",
        queryset=ChargeType.objects.order_by("position", "code"),
        empty_label="Choisir un type de charge",
        error_messages={"required": "Choisissez le type de charge.", "invalid_choice": "Type de charge inconnu."},
    )
    actual_amount = AmountField(
        label="Dépense réelle de l'exercice (€)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        localize=True,
        error_messages={
            "min_value": "La dépense ne peut pas être négative.",
            "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales.",
            "invalid": "Saisissez un montant, par exemple 12 480,00.",
            "required": "Saisissez la dépense réelle (0 s'il n'y en a pas eu).",
        },
    )
    allocation_key = forms.ChoiceField(
        label="Clé de répartition", choices=AllocationKey.choices, initial=AllocationKey.LIVING_AREA
    )


class RegularisationApplyForm(forms.Form):
    spread_months = forms.TypedChoiceField(
        label="Étalement des sommes dues par les locataires",
        coerce=int,
        choices=[(1, "Pas d'étalement")] + [(n, f"{n} mensualités") for n in range(2, 13)],
        initial=1,
        help_text="Le solde est porté en une fois au compte ; l'échéancier figure sur le décompte.",
    )


class SlsSurveyForm(forms.Form):
    ANSWERED, NO_ANSWER = "answered", "no_answer"

    answer = forms.ChoiceField(
        label="Réponse du ménage",
        choices=[(ANSWERED, "Répondue (avis d'imposition fournis)"), (NO_ANSWER, "Sans réponse après relance")],
        widget=forms.RadioSelect,
        initial=ANSWERED,
    )
    answered_on = FrenchDateField(
        label="Reçue le",
        required=False,
    )
    household_resources = AmountField(
        label="Revenus fiscaux de référence du ménage (€)",
        help_text="Somme des RFR de l'année N-2 de toutes les personnes vivant au foyer.",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        localize=True,
        error_messages={
            "min_value": "Les ressources ne peuvent pas être négatives.",
            "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales.",
            "invalid": "Saisissez un montant, par exemple 38 000.",
        },
    )
    household_category = forms.ChoiceField(
        label="Catégorie de ménage",
        required=False,
        choices=[("", "—")]
        + [(c, f"Catégorie {c}" if int(c) <= 6 else f"6 + {int(c) - 6} personne(s)") for c in HOUSEHOLD_CATEGORIES],
    )
    apl_beneficiary = forms.BooleanField(label="Bénéficiaire de l'APL", required=False)

    def clean(self):
        data = super().clean()
        if data.get("answer") == self.ANSWERED:
            if not data.get("answered_on") and "answered_on" not in self.errors:
                self.add_error("answered_on", "Indiquez la date de réponse.")
            if data.get("household_resources") is None and "household_resources" not in self.errors:
                self.add_error("household_resources", "Indiquez le revenu fiscal de référence du ménage.")
            if not data.get("household_category"):
                self.add_error("household_category", "Choisissez la catégorie de ménage.")
        return data
