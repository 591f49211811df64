"""Forms of the import pages and the accounting export: they check input, the services decide."""

from datetime import date, timedelta

from django import forms

from tenancies.fields import FrenchDateField

from .models import Account

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class StatementUploadForm(forms.Form):
    """A CSV statement; `cleaned_data["content"]` holds its bytes."""

    file = forms.FileField(
        label="Fichier CSV",
        error_messages={"required": "Choisissez un fichier.", "empty": "Le fichier est vide."},
    )

    def __init__(self, *args, label: str = "Fichier CSV", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = label
        self.fields["file"].help_text = help_text
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,text/csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Le fichier doit être un CSV (extension .csv).")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("Le fichier dépasse 20 Mo : découpez-le.")
        self.cleaned_data["content"] = upload.read()
        return upload


class BankLineResolveForm(forms.Form):
    """Attach an unmatched bank line to a lease (action "attach") or ignore it (action "ignore")."""

    ACTIONS = ("attach", "ignore")

    lease_number = forms.CharField(
        label="N° de bail",
        max_length=20,
        required=False,
        help_text="Pour rattacher la ligne : le paiement est enregistré sur ce bail.",
        widget=forms.TextInput(attrs={"placeholder": "ex. : B00001077"}),
    )
    note = forms.CharField(
        label="Motif",
        max_length=200,
        required=False,
        help_text="Pour ignorer la ligne : frais bancaires, virement retourné…",
    )

    def __init__(self, *args, user, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if line.amount <= 0:
            del self.fields["lease_number"]  # a debit is never a payment: it can only be ignored

    @property
    def action(self) -> str:
        return self.data.get("action", "")

    def clean(self):
        data = super().clean()
        if self.action not in self.ACTIONS:
            raise forms.ValidationError("Choisissez « Rattacher au bail » ou « Ignorer la ligne ».")
        if self.action == "attach" and "lease_number" not in self.fields:
            raise forms.ValidationError("Un débit ne devient pas un paiement : ignorez la ligne en indiquant pourquoi.")
        if self.action == "attach":
            number = data.get("lease_number", "").strip().upper()
            if not number:
                self.add_error("lease_number", "Indiquez le n° du bail à créditer.")
                return data
            # Only the accounts of the user's agencies: another agency's lease reads as unknown.
            account = Account.objects.for_user(self.user).select_related("lease").filter(lease__number=number).first()
            if account is None:
                self.add_error("lease_number", f"Aucun compte locataire pour le bail « {number} » dans vos agences.")
            data["account"] = account
        elif not data.get("note", "").strip():
            self.add_error("note", "Indiquez pourquoi la ligne est ignorée.")
        return data


class CafLineResolveForm(forms.Form):
    """Update the expected APL from a difference ("update_apl") or mark a line treated ("treat")."""

    ACTIONS = ("update_apl", "treat")

    note = forms.CharField(
        label="Note",
        max_length=200,
        required=False,
        help_text="Pour « Marquer comme traitée » : ce qui a été fait (appel à la CAF, rappel régularisé…).",
    )

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line

    @property
    def action(self) -> str:
        return self.data.get("action", "")

    def clean(self):
        data = super().clean()
        if self.action not in self.ACTIONS:
            raise forms.ValidationError("Choisissez « Mettre à jour l'APL attendue » ou « Marquer comme traitée ».")
        if self.action == "treat" and not data.get("note", "").strip():
            self.add_error("note", "Indiquez ce qui a été fait pour traiter la ligne.")
        return data


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


ISO_TOO = {"invalid": "Saisissez une date au format jj/mm/aaaa (ou aaaa-mm-jj)."}


class AccountingExportForm(forms.Form):
    du = FrenchDateField(label="Du", required=False, input_formats=DATE_FORMATS, error_messages=ISO_TOO)
    au = FrenchDateField(
        label="Au",
        required=False,
        input_formats=DATE_FORMATS,
        error_messages=ISO_TOO,
        help_text="Par défaut : le mois précédent.",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = previous_month(today)
        if not self.is_bound:
            self.initial.setdefault("du", self.default[0])
            self.initial.setdefault("au", self.default[1])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start, end = data.get("du"), data.get("au")
        if start is None and end is None:
            data["du"], data["au"] = self.default
        elif start is None or end is None:
            raise forms.ValidationError("Indiquez les deux dates, ou aucune pour le mois précédent.")
        elif start > end:
            self.add_error("au", "La date de fin doit être postérieure ou égale à la date de début.")
        return data
