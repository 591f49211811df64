"""Committee forms: they clean and check fields; the services decide."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from tenancies.fields import AmountField, FrenchDateField
from tenancies.models import User
from tenancies.roles import Role

from .models import DecisionKind, ExceptionReason, RefusalReason, VotingRight

TIME_ERRORS = {"invalid": "Saisissez une heure au format hh:mm.", "required": "Saisissez une heure."}


def _aware(day, at):
    return timezone.make_aware(datetime.combine(day, at))


class SessionForm(forms.Form):
    agency = forms.ModelChoiceField(label="Agence", queryset=None, empty_label=None)
    held_on = FrenchDateField(label="Date de la séance")
    place = forms.CharField(label="Lieu (vide : séance dématérialisée)", max_length=200, required=False)
    opens_on = FrenchDateField(label="Ouverture des votes le")
    opens_time = forms.TimeField(label="à", initial=time(9, 0), error_messages=TIME_ERRORS)
    closes_on = FrenchDateField(label="Clôture des votes le")
    closes_time = forms.TimeField(label="à", initial=time(18, 0), error_messages=TIME_ERRORS)
    quorum = forms.IntegerField(label="Quorum (membres à voix délibérative)", min_value=1, max_value=30, initial=3)
    president = forms.ModelChoiceField(label="Président(e)", queryset=None, required=False)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["president"].queryset = member_candidates()

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(k) for k in ("opens_on", "opens_time", "closes_on", "closes_time")):
            cleaned["opens_at"] = _aware(cleaned["opens_on"], cleaned["opens_time"])
            cleaned["closes_at"] = _aware(cleaned["closes_on"], cleaned["closes_time"])
            if cleaned["closes_at"] <= cleaned["opens_at"]:
                self.add_error("closes_on", "La clôture des votes doit suivre leur ouverture.")
        return cleaned


def member_candidates():
    """Who may sit: committee members and staff (active accounts with a role)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=Role.values)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(label="Membre", queryset=None)
    voting_right = forms.ChoiceField(label="Voix", choices=VotingRight.choices)
    capacity = forms.CharField(label="Qualité", max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = member_candidates()
        for name in ("user", "voting_right"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["capacity"].widget.attrs["class"] = "form-control form-control-sm"


class AgendaForm(forms.Form):
    session = forms.ModelChoiceField(label="Séance", queryset=None, empty_label=None)
    exception_reason = forms.ChoiceField(
        label="Moins de trois candidats : motif légal", choices=ExceptionReason.choices, required=False
    )
    exception_note = forms.CharField(label="Justification", max_length=500, required=False)

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        for name in ("session", "exception_reason"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["exception_note"].widget.attrs["class"] = "form-control"


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label="Décision", choices=DecisionKind.choices)
    rank = forms.IntegerField(label="Rang", min_value=1, max_value=99, required=False)
    condition = forms.CharField(label="Pièce attendue", max_length=300, required=False)
    condition_deadline = FrenchDateField(label="Date limite", required=False)
    reasons = forms.CharField(label="Motifs", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    correction = forms.BooleanField(label="Décision rectificative", required=False)


class AplForm(forms.Form):
    amount = AmountField(label="APL connue", required=False, min_value=0)


class OfferAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "Acceptée"), ("refuse", "Refusée")], label="Réponse")
    on = FrenchDateField(label="Date de la réponse")
    starts_on = FrenchDateField(label="Date d'effet du bail", required=False)
    refusal_kind = forms.ChoiceField(
        label="Motif du refus",
        choices=[("", "—")] + [c for c in RefusalReason.choices if c[0] != RefusalReason.NO_ANSWER],
        required=False,
    )
    reason = forms.CharField(label="Précision sur le refus", max_length=500, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == "accept" and not cleaned.get("starts_on"):
            self.add_error("starts_on", "Indiquez la date d'effet du bail.")
        if cleaned.get("answer") == "refuse":
            if not cleaned.get("refusal_kind"):
                self.add_error("refusal_kind", "Indiquez le motif du refus.")
            elif cleaned["refusal_kind"] == RefusalReason.OTHER and not cleaned.get("reason", "").strip():
                self.add_error("reason", "Précisez le motif du refus « Autre ».")
        return cleaned


class ReceivedForm(forms.Form):
    received_on = FrenchDateField(label="Reçue le")
