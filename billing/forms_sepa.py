"""Forms of the SEPA pages: field checks only; billing.sepa decides and saves."""

from datetime import date

from django import forms

from tenancies.fields import FrenchDateField

from . import sepa

# A bank's rejection listing is a few hundred lines at most.
MAX_REJECT_FILE_BYTES = 1024 * 1024


def _checked(check, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except sepa.SepaError as exc:
        raise forms.ValidationError(str(exc)) from exc


class MandateForm(forms.Form):
    rum = forms.CharField(
        label="Référence unique de mandat (RUM)",
        max_length=35,
        help_text="Proposée par défaut ; reprenez celle du mandat papier s'il en porte une.",
    )
    signed_on = FrenchDateField(label="Signé le")
    debtor_name = forms.CharField(label="Titulaire du compte", max_length=70)
    iban = forms.CharField(label="IBAN", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    bic = forms.CharField(
        label="BIC",
        max_length=20,
        required=False,
        help_text="Facultatif pour les banques françaises : déduit de l'IBAN s'il est laissé vide.",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_rum(self):
        return _checked(sepa.check_rum, self.cleaned_data["rum"])

    def clean_signed_on(self):
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > self.today:
            raise forms.ValidationError("La date de signature ne peut pas être dans le futur.")
        return signed_on

    def clean_iban(self):
        return _checked(sepa.normalise_iban, self.cleaned_data["iban"])

    def clean(self):
        cleaned = super().clean()
        if "iban" in cleaned and "bic" in cleaned:
            try:
                cleaned["bic"] = sepa.normalise_bic(cleaned["bic"], iban=cleaned["iban"])
            except sepa.SepaError as exc:
                self.add_error("bic", str(exc))
        return cleaned


class CollectionForm(forms.Form):
    due_on = FrenchDateField(
        label="Date d'échéance",
        help_text=f"Jour où les comptes sont débités : au plus {sepa.MAX_DAYS_AHEAD} jours après aujourd'hui.",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        _checked(sepa.check_due_date, due_on, self.today)
        return due_on


class RejectFileForm(forms.Form):
    file = forms.FileField(
        label="Fichier des rejets (CSV)",
        help_text="Colonnes end_to_end_id;code_motif;date_rejet, séparées par des points-virgules.",
        error_messages={"required": "Choisissez le fichier des rejets.", "empty": "Le fichier est vide."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_REJECT_FILE_BYTES:
            raise forms.ValidationError("Fichier trop volumineux (1 Mo au plus).")
        return upload.read()
