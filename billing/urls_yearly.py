"""Billing URLs: yearly operations (included by billing/urls.py in the billing namespace)."""

from django.urls import path

from . import views_yearly as views

urlpatterns: list = [
    path("annuel/", views.yearly_index, name="yearly_index"),
    # 1. Rent revision on 1 January
    path("annuel/revisions/nouvelle/", views.revision_new, name="revision_new"),
    path("annuel/revisions/<int:pk>/", views.revision_detail, name="revision_detail"),
    path("annuel/revisions/<int:pk>/appliquer/", views.revision_apply, name="revision_apply"),
    path("annuel/revisions/lettres/<int:pk>.pdf", views.revision_letter, name="revision_letter"),
    # 2. Charge regularisation per building and year
    path("annuel/regularisations/nouvelle/", views.regularisation_new, name="regularisation_new"),
    path("annuel/regularisations/<int:pk>/", views.regularisation_detail, name="regularisation_detail"),
    path("annuel/regularisations/<int:pk>/appliquer/", views.regularisation_apply, name="regularisation_apply"),
    path(
        "annuel/regularisations/<int:pk>/baux/<int:lease_pk>.pdf",
        views.regularisation_statement,
        name="regularisation_statement",
    ),
    # 3. SLS: survey campaign of a year, answers per household, application
    path("annuel/sls/<int:year>/", views.sls_campaign, name="sls_campaign"),
    path("annuel/sls/<int:year>/ouvrir/", views.sls_open, name="sls_open"),
    path("annuel/sls/<int:year>/cloturer/", views.sls_close, name="sls_close"),
    path("annuel/sls/<int:year>/recalculer/", views.sls_recompute, name="sls_recompute"),
    path("annuel/sls/<int:year>/appliquer/", views.sls_apply, name="sls_apply"),
    path("annuel/sls/enquetes/<int:pk>/", views.sls_survey_edit, name="sls_survey_edit"),
    path("annuel/sls/enquetes/<int:pk>.pdf", views.sls_letter, name="sls_letter"),
]
