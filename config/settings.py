"""Locatif settings: one module, every deployment-specific value read from the environment.

Local defaults target the machine's Postgres and Redis; production sets DJANGO_DEBUG=0 and
must provide SECRET_KEY and ALLOWED_HOSTS (startup fails loudly otherwise).
"""

import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("LOCATIF_TESTING", default=False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # Development only: a per-checkout random key kept out of git.
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Key rotation: the previous key(s) stay valid for signatures (sessions, tokens) during the overlap.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "django_filters",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "pgtrigger",
    "tenancies",
    "applications",
    "applications.committee",
    "inspections",
    "billing",
    "arrears",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Default deny: every view needs a login unless decorated with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # 10-hour absolute session limit, second factor for the roles needing it, no-store.
    "tenancies.security.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that a lockout answer is produced after authentication ran.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancies.context_processors.navigation",
            ],
            "builtins": ["tenancies.templatetags.locatif"],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/locatif"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# ModelChoiceField iterates with .iterator(): without this, every filter <select> costs a
# DECLARE/FETCH/CLOSE server-side cursor round trip set (~1.5 ms per list page).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancies.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "tenancies.backends.PasswordBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # The landlord's own words (tenancies/data/forbidden_passwords.txt and the agencies' names).
    {"NAME": "tenancies.security.ForbiddenWordsValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock (username, address) after 5 failures for 15 minutes, not forever.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False

# Second factor (django-otp TOTP): optional for staff, required for these roles. Off in the test
# settings (the security tests switch it on) so that browser tests log in with a password only.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=[] if TESTING else ["direction", "administrateur"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Locatif")
OTP_LOGIN_STEP_SECONDS = 5 * 60  # time allowed between the password and the code

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media-private/"  # never served directly: files go through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Sessions: 30 minutes idle (the cookie is renewed on every request), ended at browser close.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Absolute limit from login, whatever the activity (tenancies.security.SessionSecurityMiddleware).
SESSION_ABSOLUTE_AGE = 10 * 60 * 60
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not (DEBUG or TESTING):
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Content Security Policy (django-csp 4): only our own origin; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # A nonce for the day an inline script is unavoidable ({{ request.csp_nonce }}); never unsafe-inline.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Billing: notices are payable on this day of the month after the billed month (terme échu);
# beat launches the monthly run on BILLING_RUN_DAY for the current month.
BILLING_DUE_DAY = env.int("BILLING_DUE_DAY", default=5)
BILLING_RUN_DAY = env.int("BILLING_RUN_DAY", default=25)
BILLING_CHUNK_SIZE = env.int("BILLING_CHUNK_SIZE", default=1000)
# Redis redelivers an unacknowledged task after this many seconds (longer than any task's hard limit).
# kombu's sweep that restores unacknowledged tasks of a dead worker runs every interval × throttle
# seconds; its lock outlives a killed holder for unacked_mutex_expire seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE", default=300),
}
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900

# Celery: Redis broker; tasks run in-process when no Redis can be had (CELERY_TASK_ALWAYS_EAGER=1).
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Cache: the rendered dashboard blocks, keyed by the snapshot refresh they show (dashboards.views).
# Shared by the gunicorn workers through Redis in production (CACHE_URL, default REDIS_URL); one
# per process in development ("locmem://"); nothing in tests ("dummy://": no test sees another's
# entries; the cache tests switch to locmem). The pages compute the blocks themselves when the cache
# is unreachable.
CACHE_URL = env.str("CACHE_URL", default="dummy://" if TESTING else "locmem://" if DEBUG else REDIS_URL)
_CACHE_BACKENDS = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "dummy": "django.core.cache.backends.dummy.DummyCache",
}
_cache_scheme = CACHE_URL.partition(":")[0]
CACHES = {
    "default": {
        "BACKEND": _CACHE_BACKENDS.get(_cache_scheme, "django.core.cache.backends.redis.RedisCache"),
        "LOCATION": "" if _cache_scheme in _CACHE_BACKENDS else CACHE_URL,
        "KEY_PREFIX": "locatif",
        "TIMEOUT": 24 * 60 * 60,
        # A Redis that does not answer costs a page one second at most, not the worker's timeout.
        "OPTIONS": {} if _cache_scheme in _CACHE_BACKENDS else {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# Avis, quittances and reçus kept in that cache under a digest of their content (billing.pdf.render_pdf).
PDF_CACHE_SECONDS = env.int("PDF_CACHE_SECONDS", default=7 * 24 * 60 * 60)
CELERY_IMPORTS = ["billing.document_tasks"]  # tasks outside the autodiscovered tasks.py modules
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic work is declared here, in one place; each entry calls a thin task.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "monthly-billing": {
        "task": "billing.tasks.launch_monthly_billing",
        "schedule": crontab(minute=0, hour=2, day_of_month=str(BILLING_RUN_DAY)),
    },
    "resume-stale-billing-runs": {
        "task": "billing.tasks.resume_stale_billing_runs",
        "schedule": crontab(minute="*/10"),
    },
    "purge-personal-data": {
        "task": "tenancies.tasks.purge_personal_data",
        "schedule": crontab(minute=30, hour=3),
    },
    "dashboards-nightly": {"task": "dashboards.refresh", "schedule": crontab(minute=45, hour=3)},
    "arrears-detection": {"task": "arrears.tasks.detect_arrears", "schedule": crontab(minute=30, hour=4)},
    "arrears-plan-check": {"task": "arrears.tasks.check_repayment_plans", "schedule": crontab(minute=0, hour=5)},
    "application-renewals": {
        "task": "applications.tasks.run_application_renewals",
        "schedule": crontab(minute=30, hour=5),
    },
    "committee-offers-follow-up": {"task": "committee.offers_follow_up", "schedule": crontab(minute=15, hour=6)},
    "daily-move-out-report": {
        "task": "inspections.tasks.daily_move_out_report",
        "schedule": crontab(minute=30, hour=6),
    },
}

# SEPA direct debit: the landlord's creditor identity (ICS from the Banque de France) and the fee
# charged to the tenant for a rejected debit.
SEPA_CREDITOR = {
    "name": env.str("SEPA_CREDITOR_NAME", default="Val-de-Seine Habitat"),
    "iban": env.str("SEPA_CREDITOR_IBAN", default="FR1420041010050500013M02606"),
    "bic": env.str("SEPA_CREDITOR_BIC", default="PSSTFRPPPAR"),
    "creditor_id": env.str("SEPA_CREDITOR_ID", default="FR72ZZZ123456"),
}
SEPA_REJECT_FEE = Decimal(env.str("SEPA_REJECT_FEE", default="6.50"))

# The landlord's letterhead on letters and PDFs.
LANDLORD = {
    "name": env.str("LANDLORD_NAME", default="Val-de-Seine Habitat"),
    "legal_form": env.str("LANDLORD_LEGAL_FORM", default="Office public de l'habitat"),
    "address": env.str("LANDLORD_ADDRESS", default="12 quai de la Seine, 78200 Mantes-la-Jolie"),
    "siret": env.str("LANDLORD_SIRET", default="27780000000018"),
    "phone": env.str("LANDLORD_PHONE", default="01 30 00 00 00"),
}

# Every handler masks passwords, tokens, IBANs and social-security numbers (tenancies.privacy);
# the Celery worker's own handlers get the same filter (config/celery.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_sensitive": {"()": "tenancies.privacy.MaskSensitiveData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_sensitive"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console and mail_admins handlers lack the mask: ours replace them.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
