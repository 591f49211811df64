from django import forms

from .fields import FrenchDateField
from .models import LeaseStatus


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Rechercher",
        min_length=2,
        max_length=100,
        error_messages={
            "required": "Saisissez un nom, une référence de logement ou un numéro de bail.",
            "min_length": "Saisissez au moins 2 caractères.",
            "max_length": "La recherche est limitée à 100 caractères.",
        },
    )


class LeaseTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="Nouveau statut")
    on = FrenchDateField(
        label="Date (signature ou fin)",
        required=False,
        help_text="Obligatoire pour une signature ou une fin de bail.",
    )
    reason = forms.CharField(label="Motif", max_length=255, required=False)

    def __init__(self, *args, lease, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(s, LeaseStatus(s).label) for s in lease.allowed_transitions]

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("to_status")
        if status in (LeaseStatus.SIGNED, LeaseStatus.ENDED) and not cleaned.get("on"):
            self.add_error("on", "Indiquez la date de signature ou de fin.")
        return cleaned
