"""Django settings for Jigi.

Everything that differs between a laptop, CI and production comes from the environment:
JIGI_DATABASE_URL (default: a SQLite file in the working directory), JIGI_SECRET_KEY,
JIGI_DEBUG, JIGI_ALLOWED_HOSTS, JIGI_BROKER_URL, and the channels' JIGI_SMS_*, JIGI_AT_*,
JIGI_USSD_*, JIGI_MOMO_* (docs/channels.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django.conf.locale

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("JIGI_SECRET_KEY", "jigi-insecure-development-key-change-me-in-production")
DEBUG = os.environ.get("JIGI_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("JIGI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "jigi.core",
    "jigi.orgs",
    "jigi.people",
    "jigi.ledger",
    "jigi.savings",
    "jigi.credit",
    "jigi.health",
    "jigi.movement",
    "jigi.learning",
    "jigi.channels",
    "jigi.reports",
    "jigi.cob",
    "jigi.web",
    "jigi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "jigi.urls"
WSGI_APPLICATION = "jigi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "jigi.web.context.jigi_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("JIGI_DATABASE_URL", f"sqlite:///{Path.cwd() / 'jigi.sqlite3'}"),
        conn_max_age=int(os.environ.get("JIGI_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers proceed while a teller posts; IMMEDIATE makes a write transaction take
    # the write lock at BEGIN, so two concurrent writers queue instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("JIGI_TEST_SQLITE_NAME", "")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Django knows no Bambara; declare it so the language switcher and get_language_info work.
django.conf.locale.LANG_INFO.setdefault(
    "bm", {"bidi": False, "code": "bm", "name": "Bambara", "name_local": "Bamanankan"}
)
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("bm", "Bamanankan"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Africa/Bamako"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served from the installed packages by WhiteNoise's finders, so a fresh
# clone needs no collectstatic; production may still collect to JIGI_STATIC_ROOT.
STATIC_ROOT = os.environ.get("JIGI_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Celery: close of business partitions run in-process unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("JIGI_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL

# Product defaults that DOMAIN.md marks as settings, not constants.
JIGI = {
    "USURY_CAP_SFD_PERCENT": "24",
    "CURRENCY": "XOF",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIGI_LOG_LEVEL", "WARNING")},
}

# Members' phones (docs/channels.md). Every default runs locally: the SMS simulator, the fake
# mobile-money provider on 127.0.0.1:8765, a USSD gateway reachable from this machine only.
JIGI_SMS_BACKEND = os.environ.get("JIGI_SMS_BACKEND", "simulator")  # or "africastalking"
JIGI_SMS_CALLBACK_KEY = os.environ.get("JIGI_SMS_CALLBACK_KEY", "")  # empty: reports refused
JIGI_AT_USERNAME = os.environ.get("JIGI_AT_USERNAME", "")
JIGI_AT_API_KEY = os.environ.get("JIGI_AT_API_KEY", "")
JIGI_AT_SENDER = os.environ.get("JIGI_AT_SENDER", "")
JIGI_USSD_KEY = os.environ.get("JIGI_USSD_KEY", "")
JIGI_USSD_ALLOWED_IPS = [ip for ip in os.environ.get("JIGI_USSD_ALLOWED_IPS", "").split(",")
                         if ip] or None
if os.environ.get("JIGI_MOMO_PROVIDER") or "JIGI_MOMO_MOOV_PROVIDER" in os.environ:
    JIGI_MOMO = {key: value for key, value in {
        "provider": os.environ.get("JIGI_MOMO_PROVIDER", ""),  # "orange" or "simulator"
        "base_url": os.environ.get("JIGI_MOMO_BASE_URL", ""),
        "client_id": os.environ.get("JIGI_MOMO_CLIENT_ID", ""),
        "client_secret": os.environ.get("JIGI_MOMO_CLIENT_SECRET", ""),
        "merchant_key": os.environ.get("JIGI_MOMO_MERCHANT_KEY", ""),
        "public_url": os.environ.get("JIGI_MOMO_PUBLIC_URL", ""),
        "moov_base_url": os.environ.get("JIGI_MOMO_MOOV_BASE_URL", ""),
        "moov_username": os.environ.get("JIGI_MOMO_MOOV_USERNAME", ""),
        "moov_password": os.environ.get("JIGI_MOMO_MOOV_PASSWORD", ""),
        "moov_partner_id": os.environ.get("JIGI_MOMO_MOOV_PARTNER_ID", ""),
    }.items() if value}
    # "moov", "simulator-moov", or empty: Moov numbers then go to the provider above too.
    if "JIGI_MOMO_MOOV_PROVIDER" in os.environ:
        JIGI_MOMO["moov_provider"] = os.environ["JIGI_MOMO_MOOV_PROVIDER"]
# The movement's duty phones, told at once (number only) of an urgent case.
JIGI_MOVEMENT_ALERT_PHONES = [p for p in os.environ.get("JIGI_MOVEMENT_ALERT_PHONES", "")
                              .split(",") if p]
