"""Billing URLs: sepa (included by billing/urls.py in the billing namespace)."""

from django.urls import path

from . import views_sepa

urlpatterns: list = [
    path("comptes/<int:pk>/mandats/", views_sepa.account_mandates, name="account_mandates"),
    path("comptes/<int:pk>/mandats/nouveau/", views_sepa.mandate_create, name="mandate_create"),
    path("prelevements/", views_sepa.sepa_index, name="sepa_index"),
    path("prelevements/rejets/", views_sepa.sepa_rejects, name="sepa_rejects"),
    path("prelevements/<int:pk>/", views_sepa.sepa_run_detail, name="sepa_run_detail"),
    path("prelevements/<int:pk>/pain008.xml", views_sepa.sepa_run_xml, name="sepa_run_xml"),
]
