"""Application forms: they clean and check fields; applications.services decides and saves."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from tenancies.fields import AmountField, FrenchDateField
from tenancies.models import CURRENT_LEASE_STATUSES, Agency, Commune, Contingent, Estate, Lease, Typology
from tenancies.uploads import UploadField

from .models import (
    ApplicationKind,
    CancellationReason,
    CotationRule,
    DocumentType,
    HousingSituation,
    IncomeBasis,
    IncomeSource,
    PriorityCriterion,
    Relationship,
    RequestReason,
)
from .services import PARENTS, CriterionData, PersonData

NON_NEGATIVE = {"min_value": 0, "error_messages": {"min_value": "Le montant ne peut pas être négatif."}}
MAX_PEOPLE = 12


def _in_force(qs, on: date):
    from django.db.models import Q

    return qs.filter(valid_from__lte=on).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))


class ApplicationForm(forms.Form):
    agency = forms.ModelChoiceField(label="Agence", queryset=Agency.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label="Nature de la demande", choices=ApplicationKind.choices)
    national_number = forms.CharField(
        label="Numéro unique national",
        max_length=40,
        required=False,
        help_text="Tel que délivré par le SNE (laisser vide : un numéro local est attribué en attendant).",
    )
    first_registered_on = FrenchDateField(
        label="Date de première inscription", required=False, help_text="Vide : aujourd'hui. Elle fonde l'ancienneté."
    )
    lease_number = forms.CharField(
        label="Bail actuel (mutation)",
        max_length=20,
        required=False,
        help_text="Numéro d'un bail en cours de l'agence.",
    )
    housing_situation = forms.ChoiceField(label="Situation de logement actuelle", choices=HousingSituation.choices)
    current_rent = AmountField(label="Loyer actuel (€)", required=False, **NON_NEGATIVE)
    reasons = forms.MultipleChoiceField(
        label="Motifs de la demande", choices=RequestReason.choices, widget=forms.CheckboxSelectMultiple
    )
    wished_communes = forms.ModelMultipleChoiceField(
        label="Communes souhaitées",
        queryset=Commune.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    wished_typologies = forms.MultipleChoiceField(
        label="Typologies souhaitées", choices=Typology.choices, widget=forms.CheckboxSelectMultiple
    )
    max_floor = forms.IntegerField(label="Étage maximum", required=False, min_value=0, max_value=60)
    needs_elevator = forms.BooleanField(label="Ascenseur nécessaire", required=False)
    needs_accessible = forms.BooleanField(label="Logement accessible ou adapté nécessaire", required=False)
    max_rent = AmountField(label="Loyer maximum charges comprises (€)", required=False, **NON_NEGATIVE)
    dalo = forms.BooleanField(label="Désigné(e) par le préfet au titre du DALO", required=False)
    dalo_designated_on = FrenchDateField(label="Date de désignation DALO", required=False)
    priority_criteria = forms.ModelMultipleChoiceField(
        label="Critères de priorité (CCH L441-1)",
        queryset=PriorityCriterion.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reservataire = forms.ChoiceField(
        label="Proposé(e) par un réservataire", choices=[("", "—"), *Contingent.choices], required=False
    )
    income_basis = forms.ChoiceField(label="Ressources retenues", choices=IncomeBasis.choices)
    recent_income = AmountField(
        label="Revenus récents annuels du foyer (€)",
        required=False,
        help_text="N-1 ou 12 derniers mois, retenus s'ils sont inférieurs d'au moins 10 % au RFR N-2 (justificatif).",
        **NON_NEGATIVE,
    )
    social_notes = forms.CharField(
        label="Notes sociales (jamais communiquées à la commission)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, application=None, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.today = today or timezone.localdate()
        self.application = application
        agencies = Agency.objects.all() if user.sees_all_agencies else Agency.objects.filter(pk__in=user.agency_ids)
        self.fields["agency"].queryset = agencies
        self.fields["wished_communes"].queryset = Commune.objects.filter(
            estates__in=Estate.objects.for_user(user)
        ).distinct()
        self.fields["priority_criteria"].queryset = _in_force(PriorityCriterion.objects.all(), self.today)
        if application is not None:
            del self.fields["agency"]
            self.fields["first_registered_on"].disabled = True

    def clean_first_registered_on(self):
        value = self.cleaned_data.get("first_registered_on")
        if value and value > self.today:
            raise forms.ValidationError("La date de première inscription ne peut pas être dans le futur.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("dalo") and not data.get("dalo_designated_on"):
            self.add_error("dalo_designated_on", "Indiquez la date de désignation DALO.")
        data["current_lease"] = None
        if data.get("kind") == ApplicationKind.TRANSFER:
            number = (data.get("lease_number") or "").strip().upper()
            agency = self.application.agency if self.application else data.get("agency")
            if not number:
                self.add_error("lease_number", "Une demande de mutation indique le bail actuel du demandeur.")
            elif agency is not None:
                lease = (
                    Lease.objects.for_user(self.user)
                    .filter(number=number, dwelling__building__estate__agency=agency, status__in=CURRENT_LEASE_STATUSES)
                    .select_related("dwelling__building__estate")
                    .first()
                )
                if lease is None:
                    self.add_error("lease_number", f"Aucun bail en cours n° « {number} » dans l'agence {agency}.")
                data["current_lease"] = lease
        return data


class RowForm(forms.Form):
    """A formset row rendered as a table line: Bootstrap classes and an aria-label on each widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif not widget.is_hidden:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            widget.attrs.setdefault("aria-label", str(field.label or ""))


class PersonForm(RowForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    relationship = forms.ChoiceField(label="Lien", choices=[("", "—"), *Relationship.choices])
    last_name = forms.CharField(label="Nom", max_length=100)
    first_name = forms.CharField(label="Prénom", max_length=100)
    birth_date = FrenchDateField(label="Né(e) le")
    dependant = forms.BooleanField(label="À charge", required=False)
    disability_card = forms.BooleanField(label="CMI invalidité", required=False)
    tax_income = AmountField(label="RFR N-2 (€)", required=False, **NON_NEGATIVE)
    tax_year = forms.IntegerField(label="Année", required=False, min_value=2000, max_value=2100)
    phone = forms.CharField(label="Téléphone", max_length=20, required=False)
    email = forms.EmailField(label="Courriel", required=False)

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > self.today:
            raise forms.ValidationError("La date de naissance ne peut pas être dans le futur.")
        if value.year < 1900:
            raise forms.ValidationError("Date de naissance invraisemblable.")
        return value


class BasePersonFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "today": self.form_kwargs.get("today")}

    def people(self) -> list[tuple[int, dict]]:
        """(1-based row number, cleaned data) of the filled, not deleted rows."""
        return [
            (i + 1, f.cleaned_data)
            for i, f in enumerate(self.forms)
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]

    def clean(self):
        if any(self.errors):
            return
        rows = [data for _, data in self.people()]
        if not rows:
            raise forms.ValidationError("Indiquez au moins le demandeur.")
        applicants = [r for r in rows if r["relationship"] == Relationship.APPLICANT]
        if len(applicants) != 1:
            raise forms.ValidationError("Le foyer doit compter exactement un demandeur (lien « Demandeur »).")
        parents = [r for r in rows if r["relationship"] in PARENTS]
        for child in (r for r in rows if r["relationship"] == Relationship.CHILD):
            for parent in parents:
                if child["birth_date"] <= parent["birth_date"]:
                    raise forms.ValidationError(
                        f"Foyer incohérent : l'enfant {child['first_name']} {child['last_name']} est plus âgé(e) "
                        f"que {parent['first_name']} {parent['last_name']}."
                    )


PersonFormSet = forms.formset_factory(
    PersonForm, formset=BasePersonFormSet, extra=0, can_delete=True, max_num=MAX_PEOPLE, validate_max=True
)


class IncomeForm(RowForm):
    person = forms.ChoiceField(
        label="Personne n°", choices=[("", "—")] + [(str(i), str(i)) for i in range(1, MAX_PEOPLE + 1)]
    )
    source = forms.ChoiceField(label="Nature", choices=[("", "—"), *IncomeSource.choices])
    monthly_amount = AmountField(label="Montant mensuel (€)", **NON_NEGATIVE)


IncomeFormSet = forms.formset_factory(IncomeForm, extra=0, can_delete=True, max_num=40)


def person_formset(data=None, *, initial=None, extra=0, today=None):
    cls = forms.formset_factory(
        PersonForm, formset=BasePersonFormSet, extra=extra, can_delete=True, max_num=MAX_PEOPLE, validate_max=True
    )
    return cls(data, initial=initial, prefix="people", form_kwargs={"today": today})


def income_formset(data=None, *, initial=None, extra=0):
    cls = forms.formset_factory(IncomeForm, extra=extra, can_delete=True, max_num=40)
    return cls(data, initial=initial, prefix="incomes")


def people_data(people_formset, income_formset) -> tuple[list[PersonData], list[str]]:
    """The PersonData list for the services, incomes attached by row number; errors (French)."""
    rows = people_formset.people()
    by_row = {}
    result = []
    for row, data in rows:
        person = PersonData(
            id=data.get("id"),
            relationship=data["relationship"],
            last_name=data["last_name"],
            first_name=data["first_name"],
            birth_date=data["birth_date"],
            dependant=data.get("dependant", False),
            disability_card=data.get("disability_card", False),
            tax_income=data.get("tax_income"),
            tax_year=data.get("tax_year"),
            phone=data.get("phone", ""),
            email=data.get("email", ""),
        )
        by_row[row] = person
        result.append(person)
    errors = []
    for f in income_formset.forms:
        data = f.cleaned_data
        if not data or data.get("DELETE"):
            continue
        person = by_row.get(int(data["person"]))
        if person is None:
            errors.append(f"Une ressource renvoie à la personne n° {data['person']}, absente du foyer.")
            continue
        person.incomes.append((data["source"], data["monthly_amount"]))
    return result, errors


class DocumentForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Pièce (liste nationale)", queryset=DocumentType.objects.none(), empty_label="—"
    )
    person = forms.ModelChoiceField(label="Personne concernée", queryset=None, required=False, empty_label="Le foyer")
    file = UploadField(label="Fichier", kinds=("pdf", "jpeg", "png"))

    def __init__(self, *args, application, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = _in_force(DocumentType.objects.all(), today or timezone.localdate())
        self.fields["person"].queryset = application.people.all()
        self.fields["document_type"].error_messages["invalid_choice"] = (
            "Cette pièce ne figure pas dans la liste nationale des pièces justificatives."
        )


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label="Motif de radiation",
        choices=[
            (c.value, c.label)
            for c in (
                CancellationReason.RENUNCIATION,
                CancellationReason.UNREACHABLE,
                CancellationReason.INADMISSIBLE,
                CancellationReason.DUPLICATE,
            )
        ],
    )
    note = forms.CharField(label="Précision", max_length=150, required=False)


class GridForm(forms.Form):
    valid_from = FrenchDateField(label="En vigueur le")
    note = forms.CharField(label="Motif de la nouvelle version", max_length=255, required=False)


class CriterionForm(RowForm):
    code = forms.SlugField(label="Code", max_length=40)
    label = forms.CharField(label="Libellé", max_length=200)
    rule = forms.ChoiceField(label="Règle", choices=[("", "—"), *CotationRule.choices])
    parameter = forms.CharField(label="Paramètre", max_length=40, required=False)
    points = forms.IntegerField(label="Points", min_value=-1000, max_value=1000)
    cap = forms.IntegerField(label="Plafond", required=False, min_value=0, max_value=100000)

    def criterion(self) -> CriterionData:
        d = self.cleaned_data
        return CriterionData(d["code"], d["label"], d["rule"], d["points"], d.get("parameter", ""), d.get("cap"))


def criterion_formset(data=None, *, initial=None, extra=3):
    cls = forms.formset_factory(CriterionForm, extra=extra, can_delete=True, max_num=60)
    return cls(data, initial=initial, prefix="criteria")
