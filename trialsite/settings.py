"""Settings for the trial site, every deployment choice read from the environment (see README)."""

import os
from datetime import timedelta
from pathlib import Path

from django.contrib.messages import constants as message_constants

from trialsite import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.env_bool("DEBUG", default=False)
SECRET_KEY = env.secret_key(DEBUG)
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", default="localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS")
# A closed demo or test deployment says so on every page, and only then may demo accounts be created.
DEMO_MODE = env.env_bool("DEMO_MODE", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ecrf",
    "analysis",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before the headers below: they keep whitenoise's long caching.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trialsite.middleware.PermissionsPolicyMiddleware",
    "trialsite.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "trialsite.middleware.AbsoluteSessionLifetimeMiddleware",
    "trialsite.middleware.IdleSessionRenewalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trialsite.urls"
WSGI_APPLICATION = "trialsite.wsgi.application"

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
                "ecrf.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.database(BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ecrf:home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes: shared ward computers are left logged in.
SESSION_COOKIE_AGE = env.env_int("SESSION_IDLE_SECONDS", 1800)
# The idle limit is renewed by a request at most once a minute (IdleSessionRenewalMiddleware), not a database
# write on every page: a session may end up to a minute early, never late.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# ... and after 12 hours however active: a session left running on a ward computer does not last for days.
SESSION_ABSOLUTE_SECONDS = env.env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600)

# Repeated wrong passwords (sign-in or signature: one credential, one counter) lock the username, and many
# from one address lock the address. The state lives in the database, shared by every gunicorn worker.
AXES_HANDLER = "trialsite.lockout.UserAndAddressHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.env_int("LOGIN_FAILURE_LIMIT", 5)
LOCKOUT_ADDRESS_FAILURE_LIMIT = env.env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = timedelta(minutes=env.env_int("LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_CALLABLE = "trialsite.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "trialsite.lockout.client_address"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# A success must not wipe the address's count: one known password would reset an attacker's budget.
AXES_RESET_ON_SUCCESS = False
# The lockout configuration is in the settings and the README; no banner on every manage.py command.
AXES_VERBOSE = False
# Cookies travel only over TLS unless told otherwise: `make run` on plain http://127.0.0.1 turns this off.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.env_bool("SECURE_COOKIES", default=True)
SECURE_HSTS_SECONDS = env.env_int("HSTS_SECONDS", 0)
# Both only take effect once HSTS_SECONDS is set; they cover this host's own subdomains, not the parent domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a one-way door (browsers keep the host on HTTPS for months): the deployer opts in.
SECURE_HSTS_PRELOAD = env.env_bool("HSTS_PRELOAD", default=False)
# Off by default so `make run` works on plain http://127.0.0.1; deployments behind TLS turn it on.
SECURE_SSL_REDIRECT = env.env_bool("SSL_REDIRECT", default=False)
BEHIND_TLS_PROXY = env.env_bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Only the site's own files: vendored Bootstrap, no inline script or style (Bootstrap's icons are data: SVGs).
# The reason of every audited change is kept whole: simple_history's default column is varchar(100), which
# PostgreSQL refuses (and SQLite silently accepts) for a longer reason a user typed.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the eCRF never uses, refused to every page and anything embedded in it.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

LANGUAGE_CODE = "en-gb"
# ISO dates as the default rendering too; the locale's formats module overrides these, so ours comes first.
DATE_FORMAT = SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FORMAT_MODULE_PATH = ["trialsite.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Exports are written by task workers (`manage.py db_worker`) into EXPORT_ROOT, kept there for download. With
# several web or worker containers it must be one shared volume; the database holds the queue and the log.
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT", BASE_DIR / "var" / "exports"))
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
MESSAGE_TAGS = {message_constants.ERROR: "danger"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # A refused page (403/404) is the access helper working, not an error worth a traceback.
    "loggers": {"django.request": {"level": "ERROR"}, "django.security": {"level": "ERROR"}},
}
