"""Billing URLs: imports (included by billing/urls.py in the billing namespace)."""

from django.urls import path

from . import views_imports as views

urlpatterns: list = [
    path("imports/banque/", views.bank_imports, name="imports"),
    path("imports/banque/<int:pk>/", views.bank_statement_detail, name="bank_statement_detail"),
    path("imports/banque/a-traiter/", views.bank_line_queue, name="bank_line_queue"),
    path("imports/banque/lignes/<int:pk>/traiter/", views.bank_line_resolve, name="bank_line_resolve"),
    path("imports/caf/", views.caf_imports, name="caf_imports"),
    path("imports/caf/<int:pk>/", views.caf_statement_detail, name="caf_statement_detail"),
    path("imports/caf/lignes/<int:pk>/traiter/", views.caf_line_resolve, name="caf_line_resolve"),
    path("comptabilite/export/", views.accounting_export_form, name="accounting_export_form"),
    path("comptabilite/export.csv", views.accounting_export, name="accounting_export"),
]
