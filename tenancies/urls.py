from django.urls import include, path

from . import views

app_name = "tenancies"

urlpatterns = [
    path("residences/", views.estate_list, name="estate_list"),
    path("residences/<int:pk>/", views.estate_detail, name="estate_detail"),
    path("batiments/<int:pk>/", views.building_detail, name="building_detail"),
    path("logements/", views.dwelling_list, name="dwelling_list"),
    path("logements/<int:pk>/", views.dwelling_detail, name="dwelling_detail"),
    path("locataires/", views.household_list, name="household_list"),
    path("locataires/<int:pk>/", views.household_detail, name="household_detail"),
    path("baux/", views.lease_list, name="lease_list"),
    path("baux/<int:pk>/", views.lease_detail, name="lease_detail"),
    path("baux/<int:pk>/statut/", views.lease_transition_view, name="lease_transition"),
    path("recherche/", views.search, name="search"),
    path("", include("tenancies.urls_privacy")),
]
