from django.urls import path

from . import documents, views

app_name = "billing"

urlpatterns = [
    path("quittancement/", views.run_list, name="run_list"),
    path("quittancement/<int:pk>/", views.run_detail, name="run_detail"),
    path("quittancement/<int:pk>/progression/", views.run_progress, name="run_progress"),
    path("quittancement/<int:pk>/relancer/", views.run_resume, name="run_resume"),
    path("quittancement/<int:pk>/agences/<int:agency_pk>.pdf", documents.run_agency_pdf, name="run_agency_pdf"),
    path("comptes/<int:pk>/", views.account_detail, name="account_detail"),
    path("comptes/<int:pk>/paiement/", views.payment_create, name="payment_create"),
    path("comptes/<int:pk>/releve.pdf", documents.statement_pdf, name="statement_pdf"),
    path("avis/<int:pk>.pdf", documents.notice_pdf, name="notice_pdf"),
    path("avis/<int:pk>/quittance.pdf", documents.quittance_pdf, name="quittance_pdf"),
    path("paiements/<int:pk>/recu.pdf", documents.receipt_pdf, name="receipt_pdf"),
]

# Each area keeps its own URL module; all live in the "billing" namespace.
from . import urls_imports, urls_sepa, urls_yearly  # noqa: E402

urlpatterns += urls_imports.urlpatterns + urls_sepa.urlpatterns + urls_yearly.urlpatterns
