"""The application list's filters (tenancies.filters.filtered drops unknown values with a message)."""

import django_filters
from django import forms
from django.db.models import Q

from tenancies.filters import _agencies, _communes
from tenancies.models import Typology, normalize_search

from .models import ApplicationKind, ApplicationPerson, ApplicationStatus

CATEGORIES = [(str(n), f"{n}" if n <= 6 else f"6 + {n - 6}") for n in range(1, 10)]


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Nom ou numéro", method="search", widget=forms.TextInput)
    status = django_filters.ChoiceFilter(label="Statut", choices=ApplicationStatus.choices, empty_label="Tous")
    kind = django_filters.ChoiceFilter(label="Nature", choices=ApplicationKind.choices, empty_label="Toutes")
    agency = django_filters.ModelChoiceFilter(label="Agence", queryset=_agencies, empty_label="Toutes")
    typology = django_filters.ChoiceFilter(
        label="Typologie souhaitée", choices=Typology.choices, empty_label="Toutes", method="wished_typology"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune souhaitée", queryset=_communes, empty_label="Toutes", field_name="wished_communes"
    )
    category = django_filters.ChoiceFilter(label="Catégorie", choices=CATEGORIES, empty_label="Toutes")
    duplicate = django_filters.BooleanFilter(
        label="Doublon possible", field_name="duplicate_suspected", widget=forms.HiddenInput
    )

    def wished_typology(self, queryset, name, value):
        return queryset.filter(wished_typologies__contains=[value])

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if any(ch.isdigit() for ch in value):
            # A number first: the local one (unique index) or the national one as typed (opaque, indexed).
            numbered = queryset.filter(Q(local_number=value.upper().replace(" ", "")) | Q(national_number=value))
            if numbered.exists():
                return numbered
        needle = normalize_search(value)
        people = ApplicationPerson.objects.filter(search_name__startswith=needle).values("application_id")
        return queryset.filter(pk__in=people)
