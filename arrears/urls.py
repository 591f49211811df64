from django.urls import path

from . import views

app_name = "arrears"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("dossiers/<int:pk>/", views.case_detail, name="case_detail"),
    path("dossiers/<int:pk>/actions/<slug:action>/", views.case_action, name="case_action"),
    path("dossiers/<int:pk>/documents/<slug:doc>.pdf", views.case_document, name="case_document"),
]
