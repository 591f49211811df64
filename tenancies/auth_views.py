from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm


class LocatifAuthenticationForm(AuthenticationForm):
    # One message for an unknown user and a wrong password: nothing tells which.
    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect.",
        "inactive": "Identifiant ou mot de passe incorrect.",
    }


class LocatifLoginView(auth_views.LoginView):
    form_class = LocatifAuthenticationForm
    redirect_authenticated_user = True
