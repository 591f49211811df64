"""Forms of the move-in / move-out pages: cleaning and French messages; the services decide."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from tenancies.fields import AmountField, FrenchDateField
from tenancies.models import Dwelling, DwellingStatus, Household, User
from tenancies.roles import Role

from .models import InspectionKind, KeyKind, NoticeReason, RepairPrice


class MoveInForm(forms.Form):
    dwelling = forms.CharField(
        label="Logement vacant (référence)", max_length=30, help_text="Par exemple SA-MAN-0001-0012."
    )
    household = forms.IntegerField(label="N° du ménage", min_value=1, help_text="Affiché sur la fiche locataire.")
    starts_on = FrenchDateField(label="Date d'effet du bail")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_dwelling(self):
        reference = self.cleaned_data["dwelling"].strip().upper()
        dwelling = (
            Dwelling.objects.for_user(self.user).select_related("building__estate").filter(reference=reference).first()
        )
        if dwelling is None:
            raise forms.ValidationError("Aucun logement de vos agences ne porte cette référence.")
        if dwelling.status not in (DwellingStatus.VACANT, DwellingStatus.RESERVED):
            raise forms.ValidationError(f"Ce logement n'est pas vacant ({dwelling.get_status_display().lower()}).")
        return dwelling

    def clean_household(self):
        household = Household.objects.for_user(self.user).filter(pk=self.cleaned_data["household"]).first()
        if household is None:
            raise forms.ValidationError("Aucun ménage de vos agences ne porte ce numéro.")
        return household


class LeaseSignForm(forms.Form):
    signed_on = FrenchDateField(label="Date de signature")


def edl_agents(agency_id):
    return (
        User.objects.filter(is_active=True, groups__name=Role.AGENT_EDL, agencies=agency_id)
        .order_by("last_name", "username")
        .distinct()
    )


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(label="Rendez-vous", choices=InspectionKind.choices)
    day = FrenchDateField(label="Date")
    hour = forms.TimeField(
        label="Heure",
        input_formats=["%H:%M", "%Hh%M", "%Hh"],
        error_messages={"invalid": "Saisissez une heure, par exemple 09:30."},
    )
    agent = forms.ModelChoiceField(label="Agent d'état des lieux", queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args, agency_id, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = edl_agents(agency_id)
        self.fields["agent"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["kind"].choices = [c for c in InspectionKind.choices if c[0] in kinds]

    @property
    def scheduled_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["day"], self.cleaned_data["hour"] or time(9)))


class NoticeForm(forms.Form):
    received_on = FrenchDateField(label="Congé reçu le")
    reason = forms.ChoiceField(label="Motif invoqué", choices=NoticeReason.choices)


class DetailsForm(forms.Form):
    """Meters, keys and the tenant's new address: one section saved on its own."""

    water_index = forms.DecimalField(label="Eau (m³)", required=False, min_value=0, decimal_places=1, localize=True)
    electricity_index = forms.DecimalField(
        label="Électricité (kWh)", required=False, min_value=0, decimal_places=0, localize=True
    )
    gas_index = forms.DecimalField(label="Gaz (m³)", required=False, min_value=0, decimal_places=1, localize=True)
    new_address = forms.CharField(label="Nouvelle adresse du locataire", required=False, max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in KeyKind.choices:
            self.fields[f"key_{kind}"] = forms.IntegerField(
                label=label, required=False, min_value=0, max_value=99, widget=forms.NumberInput(attrs={"min": 0})
            )
            self.fields[f"key_{kind}_purpose"] = forms.CharField(label="Usage", required=False, max_length=120)
        for field in ("water_index", "electricity_index", "gas_index"):
            self.fields[field].error_messages["min_value"] = "Un index ne peut pas être négatif."

    def keys(self):
        return [
            (kind, self.cleaned_data.get(f"key_{kind}") or 0, self.cleaned_data.get(f"key_{kind}_purpose") or "")
            for kind in KeyKind.values
        ]

    def key_rows(self):
        return [(self[f"key_{kind}"], self[f"key_{kind}_purpose"]) for kind in KeyKind.values]


class SignForm(forms.Form):
    tenant_signatory = forms.CharField(label="Nom du signataire (locataire)", max_length=160, required=False)
    tenant_signature = forms.CharField(widget=forms.HiddenInput, required=False)
    agent_signature = forms.CharField(widget=forms.HiddenInput, required=False)
    dwelling_to_works = forms.BooleanField(label="Le logement part en travaux (indisponible)", required=False)


class AddendumForm(forms.Form):
    received_on = FrenchDateField(label="Remarques reçues le")
    text = forms.CharField(label="Remarques du locataire", widget=forms.Textarea(attrs={"rows": 3}))


class RepairForm(forms.Form):
    price = forms.ModelChoiceField(
        label="Prix du bordereau", queryset=RepairPrice.objects.none(), required=False, empty_label="— coût saisi —"
    )
    quantity = forms.DecimalField(label="Quantité", initial=1, localize=True, max_digits=8, decimal_places=2)
    cost = AmountField(label="Coût saisi", required=False)
    renewed_on = FrenchDateField(label="Dernière rénovation", required=False)
    override_amount = AmountField(label="Montant modifié", required=False)
    override_reason = forms.CharField(label="Justification", required=False, max_length=255)

    def __init__(self, *args, prices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].queryset = prices


class ItemForm(forms.Form):
    label = forms.CharField(label="Libellé", max_length=255)
    amount = AmountField(label="Montant (négatif : en faveur du locataire)")


class ProvisionForm(forms.Form):
    provision = AmountField(label="Provision retenue jusqu'à l'arrêté des charges")


class DecisionForm(forms.Form):
    note = forms.CharField(label="Avis / motif", required=False, max_length=255)


class RefundForm(forms.Form):
    paid_on = FrenchDateField(label="Payé le")


class ReleaseForm(forms.Form):
    accounts_approved_on = FrenchDateField(label="Comptes de l'immeuble approuvés le")
