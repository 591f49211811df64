from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tenancies import views as tenancy_views
from tenancies.auth_views import LocatifLoginView

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("health/", tenancy_views.health, name="health"),
    path("connexion/", LocatifLoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/modifie/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include("tenancies.urls")),
    path("", include("billing.urls")),
    path("demandes/", include("applications.urls")),
    path("caleol/", include("applications.committee.urls")),
    path("etats-des-lieux/", include("inspections.urls")),
    path("impayes/", include("arrears.urls")),
    path("tableaux-de-bord/", include("dashboards.urls")),
    path("admin/", admin.site.urls),
]
