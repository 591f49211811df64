from django.urls import path

from . import views_privacy

urlpatterns = [
    path("personnes/<int:pk>/donnees.pdf", views_privacy.person_export_pdf, name="person_export_pdf"),
    path("personnes/<int:pk>/donnees.json", views_privacy.person_export_json, name="person_export_json"),
]
