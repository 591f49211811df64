from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("mensuel.pdf", views.monthly_pdf, name="monthly_pdf"),
    path("detail/", views.detail, name="detail"),
]
