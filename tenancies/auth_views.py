"""Login with an optional second factor (TOTP, django-otp), required for some roles.

One URL (`connexion/`) carries the three steps, so no half-logged-in session ever exists:
1. username and password (django-axes counts the failures);
2. `?etape=code`: the 6-digit code of the user's confirmed TOTP device;
3. `?etape=activer`: enrolment (QR code as an inline SVG data URL, the secret in clear for
   manual entry, then a first code confirms the device). A user whose role requires a second
   factor and who has no device goes there after step 1; any logged-in staff member can enrol
   from their password page.
Between steps 1 and 2/3 the session holds only the pending user's id and a timestamp (5 minutes).
"""

import base64
import time
from io import BytesIO

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .security import requires_second_factor

PENDING_KEY = "_locatif_otp_pending"
ENROL_DEVICE_NAME = "Application d’authentification"


class LocatifAuthenticationForm(AuthenticationForm):
    # One message for an unknown user and a wrong password: nothing tells which.
    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect.",
        "inactive": "Identifiant ou mot de passe incorrect.",
    }


class OtpTokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code de vérification",
        max_length=8,
        help_text="Les 6 chiffres affichés par votre application d’authentification.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_otp_token(self):
        return "".join(self.cleaned_data["otp_token"].split())


def confirmed_device(user):
    return next(iter(devices_for_user(user, confirmed=True)), None)


def _qr_data_url(config_url: str) -> str:
    """The otpauth:// URL as a QR code, an SVG data URL (allowed by the CSP's img-src data:)."""
    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _secret_for_humans(device) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class LocatifLoginView(auth_views.LoginView):
    form_class = LocatifAuthenticationForm
    redirect_authenticated_user = True

    # --- dispatch over the steps --------------------------------------------------------------

    @method_decorator(login_not_required)
    def dispatch(self, request, *args, **kwargs):
        # LoginView sends logged-in users away; enrolment is the one step they may use here
        # (CsrfViewMiddleware checks the POST, SessionSecurityMiddleware adds no-store).
        if request.GET.get("etape") == "activer" and request.user.is_authenticated:
            return self.enrol(request, request.user, pending=False)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        step = request.GET.get("etape")
        if step in ("code", "activer"):
            user = self.pending_user()
            if user is None:
                return redirect(settings.LOGIN_URL)
            return self.enrol(request, user, pending=True) if step == "activer" else self.code_step(request, user)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        step = request.GET.get("etape")
        if step in ("code", "activer"):
            user = self.pending_user()
            if user is None:
                messages.warning(request, "Le délai est dépassé : saisissez à nouveau votre mot de passe.")
                return redirect(settings.LOGIN_URL)
            return self.enrol(request, user, pending=True) if step == "activer" else self.code_step(request, user)
        return super().post(request, *args, **kwargs)

    # --- step 1: password ---------------------------------------------------------------------

    def form_valid(self, form):
        user = form.get_user()
        device = confirmed_device(user)
        if device is None and not requires_second_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return redirect(reverse("login") + ("?etape=code" if device else "?etape=activer"))

    def pending_user(self):
        pending = self.request.session.get(PENDING_KEY)
        if not pending or time.time() - pending["at"] > settings.OTP_LOGIN_STEP_SECONDS:
            self.request.session.pop(PENDING_KEY, None)
            return None
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
        if user is not None:
            user.backend = pending["backend"]
        return user

    def finish_login(self, user, device):
        pending = self.request.session.pop(PENDING_KEY)
        user.otp_device = device  # django_otp marks the session verified on user_logged_in
        auth_login(self.request, user)
        return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)

    # --- step 2: code -------------------------------------------------------------------------

    def code_step(self, request, user):
        device = confirmed_device(user)
        if device is None:
            return redirect(reverse("login") + "?etape=activer")
        form = OtpTokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            # verify_token refuses a code already used (replay) and throttles repeated failures.
            if device.verify_token(form.cleaned_data["otp_token"]):
                return self.finish_login(user, device)
            form.add_error("otp_token", "Code incorrect ou expiré.")
        return render(request, "registration/otp_verify.html", {"form": form})

    # --- step 3: enrolment --------------------------------------------------------------------

    def enrol(self, request, user, *, pending: bool):
        if not pending and confirmed_device(user) is not None:
            messages.info(request, "La double authentification est déjà active sur votre compte.")
            return redirect("password_change")
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=ENROL_DEVICE_NAME, confirmed=False)
        form = OtpTokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if device.verify_token(form.cleaned_data["otp_token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                if pending:
                    return self.finish_login(user, device)
                otp_login(request, device)
                messages.success(request, "Double authentification activée.")
                return redirect("password_change")
            form.add_error("otp_token", "Code incorrect : vérifiez l’heure de votre téléphone et réessayez.")
        context = {
            "form": form,
            "qr_data_url": _qr_data_url(device.config_url),
            "secret": _secret_for_humans(device),
            "required": requires_second_factor(user),
            "pending": pending,
        }
        return render(request, "registration/otp_enrol.html", context)
