from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("nouvelle/", views.application_create, name="application_create"),
    path("<int:pk>/", views.application_detail, name="application_detail"),
    path("<int:pk>/modifier/", views.application_edit, name="application_edit"),
    path("<int:pk>/radier/", views.application_cancel_view, name="application_cancel"),
    path("<int:pk>/renouveler/", views.application_renew_view, name="application_renew"),
    path("<int:pk>/attestation.pdf", views.renewal_certificate_pdf, name="certificate_pdf"),
    path("<int:pk>/pieces/", views.document_upload, name="document_upload"),
    path("pieces/<int:pk>/", views.document_download, name="document_download"),
    path("avis-renouvellement/<int:pk>/", views.renewal_notice_pdf, name="renewal_notice_pdf"),
    path("doublons/", views.duplicate_list, name="duplicate_list"),
    path("doublons/<int:pk>/<int:other_pk>/", views.duplicate_resolve_view, name="duplicate_resolve"),
    path("cotation/", views.grid_list, name="grid_list"),
    path("cotation/<int:pk>/", views.grid_detail, name="grid_detail"),
    path("cotation/agence/<int:agency_pk>/nouvelle-version/", views.grid_create, name="grid_create"),
]
