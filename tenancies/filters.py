"""List filters. Unknown or malformed values are dropped with a message, never an error page."""

import django_filters
from django import forms
from django.contrib import messages

from .models import Agency, Commune, DwellingStatus, Estate, Financing, LeaseStatus, Typology


def _agencies(request):
    user = request.user
    return Agency.objects.all() if user.sees_all_agencies else Agency.objects.filter(pk__in=user.agency_ids)


def _communes(request):
    return Commune.objects.filter(estates__in=Estate.objects.for_user(request.user)).distinct()


class EstateFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(label="Agence", queryset=_agencies, empty_label="Toutes")
    commune = django_filters.ModelChoiceFilter(label="Commune", queryset=_communes, empty_label="Toutes")


class DwellingFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(
        label="Agence", field_name="building__estate__agency", queryset=_agencies, empty_label="Toutes"
    )
    commune = django_filters.ModelChoiceFilter(
        label="Commune", field_name="building__estate__commune", queryset=_communes, empty_label="Toutes"
    )
    # By id, from the estate page's link: a <select> of every estate would cost more than the list.
    estate = django_filters.NumberFilter(label="Résidence", field_name="building__estate", widget=forms.HiddenInput)
    typology = django_filters.ChoiceFilter(label="Typologie", choices=Typology.choices, empty_label="Toutes")
    financing = django_filters.ChoiceFilter(label="Financement", choices=Financing.choices, empty_label="Tous")
    status = django_filters.ChoiceFilter(label="Statut", choices=DwellingStatus.choices, empty_label="Tous")


class HouseholdFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(label="Agence", queryset=_agencies, empty_label="Toutes")


class LeaseFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(
        label="Agence", field_name="dwelling__building__estate__agency", queryset=_agencies, empty_label="Toutes"
    )
    status = django_filters.ChoiceFilter(label="Statut", choices=LeaseStatus.choices, empty_label="Tous")


def filtered(request, filterset_class, queryset):
    """Apply a filter set; report each ignored filter value in a message."""
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    for field in filterset.form.fields.values():
        if not field.widget.is_hidden:
            field.widget.attrs["class"] = "form-select form-select-sm"
    if filterset.is_bound and not filterset.is_valid():
        for name in filterset.form.errors:
            field = filterset.form.fields.get(name)
            label = field.label if field else name
            messages.warning(request, f"Le filtre « {label} » a une valeur inconnue : il a été ignoré.")
    return filterset
