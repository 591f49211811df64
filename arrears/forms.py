"""Forms of the case page: each one cleans one action's input; the services decide."""

from decimal import Decimal, InvalidOperation

import django_filters
from django import forms

from tenancies.fields import POSITIVE, AmountField, FrenchDateField
from tenancies.filters import _agencies

from .models import CafOutcome, CaseStatus, EventKind, FslDecision, LitigationKind


class QueueFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(
        label="Agence", field_name="agency", queryset=_agencies, empty_label="Toutes"
    )
    status = django_filters.ChoiceFilter(label="Phase", choices=CaseStatus.choices, empty_label="Dossiers ouverts")
    step = django_filters.ChoiceFilter(
        label="Étape amiable",
        field_name="ladder_position",
        choices=[(0, "Aucune relance"), (1, "Relance 1"), (2, "Relance 2"), (3, "Mise en demeure"), (4, "Conseillère")],
        empty_label="Toutes",
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type", choices=[(k, EventKind(k).label) for k in (EventKind.CALL, EventKind.VISIT, EventKind.NOTE)]
    )
    on = FrenchDateField(label="Date")
    text = forms.CharField(label="Compte rendu", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class LadderForm(forms.Form):
    position = forms.IntegerField(widget=forms.HiddenInput)
    on = FrenchDateField(label="Date d'envoi")


class PlanForm(forms.Form):
    debt = AmountField(label="Dette", **POSITIVE)
    monthly_instalment = AmountField(label="Mensualité (en plus du loyer courant)", **POSITIVE)
    first_due_on = FrenchDateField(label="Première échéance")
    months = forms.IntegerField(
        label="Durée (mois)", min_value=1, error_messages={"min_value": "La durée est d'au moins 1 mois."}
    )
    schedule = forms.CharField(
        label="Échéancier personnalisé (facultatif : un montant par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_schedule(self):
        text = self.cleaned_data["schedule"].strip()
        if not text:
            return None
        amounts = []
        for number, line in enumerate(text.splitlines(), start=1):
            raw = "".join(line.split()).replace(",", ".").removesuffix("€")
            if not raw:
                continue
            try:
                amount = Decimal(raw)
            except InvalidOperation:
                raise forms.ValidationError(f"Ligne {number} : « {line.strip()} » n'est pas un montant.") from None
            if amount != amount.quantize(Decimal("0.01")):
                raise forms.ValidationError(f"Ligne {number} : pas plus de deux décimales.")
            amounts.append(amount)
        return amounts or None


class PlanDateForm(forms.Form):
    plan = forms.IntegerField(widget=forms.HiddenInput)
    on = FrenchDateField(label="Date")


class CafSendForm(forms.Form):
    report = forms.IntegerField(widget=forms.HiddenInput)
    on = FrenchDateField(label="Date d'envoi")


class CafOutcomeForm(forms.Form):
    report = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="Décision", choices=[(CafOutcome.KEPT, "APL maintenue"), (CafOutcome.SUSPENDED, "APL suspendue")]
    )
    on = FrenchDateField(label="Date")


class FslApplyForm(forms.Form):
    on = FrenchDateField(label="Déposée le")
    amount = AmountField(label="Montant demandé", **POSITIVE)


class FslDecideForm(forms.Form):
    application = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label="Décision", choices=[(FslDecision.GRANTED, "Accordé"), (FslDecision.REFUSED, "Refusé")]
    )
    on = FrenchDateField(label="Date")
    amount = AmountField(label="Montant accordé", required=False)


class DateForm(forms.Form):
    on = FrenchDateField(label="Date")


class SuspendForm(forms.Form):
    on = FrenchDateField(label="Recevabilité le")
    reason = forms.CharField(label="Précisions", required=False, max_length=200)


class LitigationForm(forms.Form):
    kind = forms.ChoiceField(label="Étape", choices=LitigationKind.choices)
    done_on = FrenchDateField(label="Date de l'acte")
    prefet_notified_on = FrenchDateField(label="Notifiée au préfet le (assignation)", required=False)
    cost = AmountField(label="Frais de procédure", required=False, min_value=Decimal("0"))
    termination = forms.BooleanField(label="Résiliation du bail prononcée (jugement)", required=False)
    payment_delay_months = forms.IntegerField(label="Délais de paiement (mois, jugement)", required=False, min_value=0)
    judgment_amount = AmountField(label="Condamnation (jugement)", required=False, min_value=Decimal("0"))


class WriteOffRequestForm(forms.Form):
    amount = AmountField(label="Montant", **POSITIVE)
    reason = forms.CharField(label="Motif", max_length=255)
    on = FrenchDateField(label="Date")


class WriteOffDecideForm(forms.Form):
    write_off = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label="Décision", choices=[("approve", "Approuver"), ("refuse", "Refuser")])
    on = FrenchDateField(label="Date")
