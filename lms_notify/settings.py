"""Settings for LMS Notify, read only from the environment (django-environ).

With nothing set the app runs on a SQLite file next to manage.py and writes
emails and SMS to the console, so a newcomer needs nothing. Production sets
DATABASE_URL, EMAIL_URL, SITE_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# A development key is only acceptable while DEBUG is on; production must set it.
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Who speaks: the admin's site header, the header of recipients' pages and the sign-off of every email.
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="LMS Notify")
# Phone numbers typed without a country code (06 12 34 56 78) are read in this region (ISO 3166 code).
# The time zone of a new learner unless told otherwise (not UTC for an organisation in Paris).
ORGANISATION_TIMEZONE = env.str("ORGANISATION_TIMEZONE", default=env.str("TIME_ZONE", default="UTC"))
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="FR").upper()
# Where learners follow their training (links of Notify reminders); empty: this site's address.
LEARNING_PLATFORM_URL = env.str("LEARNING_PLATFORM_URL", default="")

INSTALLED_APPS = [
    # Django's admin with the organisation's name in its header and administrators' words for auth's models.
    "lms_notify.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    # Bootstrap 5 CSS as static files (trainer pages), so no page depends on a CDN.
    "bootstrap",
    "django_q",
    "import_export",
    # Failed sign-ins on the admin and trainer pages are counted and throttled.
    "axes",
    # Providers' tracking and inbound webhooks, under /anymail/ while ANYMAIL_WEBHOOK_SECRET is set.
    "anymail",
    "learners",
    "programs",
    "live_sessions",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lms_notify.urls"

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
                "lms_notify.context_processors.organisation",
            ],
        },
    },
]

WSGI_APPLICATION = "lms_notify.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the qcluster worker share the file: wait for locks
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out sign-in before any password is checked. It counts
# failures in the database, so every web process shares one count, per user name AND address: guessing
# one user's password is stopped, and neither that user elsewhere nor another user here is locked out.
AUTHENTICATION_BACKENDS = [
    "lms_notify.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# Sign-ins are logged only when they fail: a success needs no row of its own.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Lockouts end on their own after the cool-off; `manage.py axes_reset_username <name>` ends one sooner.
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("pl", "Polski")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["lms_notify.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

LOGIN_URL = "admin:login"
# An attendance form of a large session posts one answer per learner (Django's default stops at 1,000 fields).
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=5000)

# --- Email -----------------------------------------------------------------
# EMAIL_URL examples: smtp://user:pass@host:587?tls=true, consolemail://,
# filemail:///var/mail/lms (writes one file per message).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LMS Notify <noreply@lms-notify.local>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Domain used in Message-ID headers so a resent message is recognisable.
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default="lms-notify.local")

# --- Mail that comes back ---------------------------------------
# The organiser's mailbox: calendar replies (ORGANIZER of invitations) and bounces (Return-Path) come back there.
# Empty: invitations keep DEFAULT_FROM_EMAIL as organiser and the envelope sender is the From address.
INBOUND_ADDRESS = env.str("INBOUND_ADDRESS", default="")
# imaps://user:password@imap.example.org/INBOX (imap:// for plain IMAP); empty: no polling.
INBOUND_IMAP_URL = env.str("INBOUND_IMAP_URL", default="")
# A local Maildir read like the IMAP mailbox (the demo's mailbox, or a mail server delivering into a folder).
INBOUND_MAILDIR = env.str("INBOUND_MAILDIR", default="")
INBOUND_IMAP_PROCESSED_FOLDER = env.str("INBOUND_IMAP_PROCESSED_FOLDER", default="Processed")
INBOUND_IMAP_BATCH = env.int("INBOUND_IMAP_BATCH", default=100)
INBOUND_IMAP_TIMEOUT = env.int("INBOUND_IMAP_TIMEOUT", default=30)
INBOUND_RETENTION_DAYS = env.int("INBOUND_RETENTION_DAYS", default=90)
# Temporary failures (4.x.x) mark nothing alone; this many within the window count as a permanent one.
INBOUND_SOFT_BOUNCE_LIMIT = env.int("INBOUND_SOFT_BOUNCE_LIMIT", default=3)
INBOUND_SOFT_BOUNCE_WINDOW_DAYS = env.int("INBOUND_SOFT_BOUNCE_WINDOW_DAYS", default=7)
# django-anymail: "user:password" the provider's webhook URLs carry (basic auth); empty: webhooks answer 404.
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}
# A relay that reads metadata from headers when sending over SMTP: "postmark" or "mailgun" (else nothing added).
MAIL_PROVIDER = env.str("MAIL_PROVIDER", default="")

# --- SMS -------------------------------------------------------------------
# Dotted path of a class implementing notifications.outbox.channels.SmsBackend.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.outbox.channels.ConsoleSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "sent_sms"))

# --- Outbox ----------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)
# A dispatch worker's claim on its batch lasts this long and is renewed while it works:
# rows claimed by a worker that died are picked up again within about this lease.
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=60)
INBOX_LINK_DAYS = 7
ACTION_LINK_DAYS = env.int("ACTION_LINK_DAYS", default=30)
# Trainers record attendance and go-shows from 15 minutes before a session starts until this many days after
# it ends; later corrections are an administrator's "Update status".
ATTENDANCE_WINDOW_DAYS_AFTER = env.int("ATTENDANCE_WINDOW_DAYS_AFTER", default=7)
# A trainer's go-show searches per minute: enough for a busy door, too few to list the learners.
GO_SHOW_SEARCHES_PER_MINUTE = env.int("GO_SHOW_SEARCHES_PER_MINUTE", default=30)
# Seed 002 §III-B: the confirmation of a chosen date carries the calendar invitation unless switched off here.
DATE_CHOICE_CALENDAR_INVITATION = env.bool("DATE_CHOICE_CALENDAR_INVITATION", default=True)
# A place offered to a learner of the waiting list is held this long, then passes to the next.
WAITING_LIST_OFFER_HOURS = env.int("WAITING_LIST_OFFER_HOURS", default=48)

# Message templates an administrator edits: loops inside loops at most this deep (refused on save),
# and each message's rendering stops past this time or size; the message then goes with the built-in words.
MESSAGE_TEMPLATE_MAX_LOOP_NESTING = env.int("MESSAGE_TEMPLATE_MAX_LOOP_NESTING", default=2)
MESSAGE_TEMPLATE_MAX_CHARS = env.int("MESSAGE_TEMPLATE_MAX_CHARS", default=20_000)
MESSAGE_RENDER_SECONDS = env.float("MESSAGE_RENDER_SECONDS", default=1.0)
MESSAGE_RENDER_MAX_CHARS = env.int("MESSAGE_RENDER_MAX_CHARS", default=200_000)

# Notify buttons: scopes larger than this run in a django-q2 task.
NOTIFY_SYNC_LIMIT = env.int("NOTIFY_SYNC_LIMIT", default=300)
# Scopes of several chunks are shared between this many processes (PostgreSQL only),
# so deciding and rendering use every core.
NOTIFY_PROCESSES = env.int("NOTIFY_PROCESSES", default=2)

# Date-based triggers ("3 days before the due date") fire at this hour of the day where the
# learner is (0-23), so a reminder arrives in the morning of the learner's day.
DATE_TRIGGER_HOUR = env.int("DATE_TRIGGER_HOUR", default=8)

# --- django-q2 -------------------------------------------------------------
# The ORM broker keeps the queue in the project database; setting
# Q_REDIS_URL switches to Redis with no other change.
Q_CLUSTER = {
    # The queue's name in the broker: two deployments (or test runs) sharing one Redis keep apart by it.
    "name": env.str("Q_NAME", default="lms_notify"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 1,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "label": gettext_lazy("Task queue"),  # django-q2's name on the admin home page
    # A large Notify run forks helper processes (NOTIFY_PROCESSES); daemonic workers may not.
    "daemonize_workers": False,
}
if env.str("Q_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"
# Tests and one-off scripts can run tasks inline.
Q_CLUSTER["sync"] = env.bool("Q_SYNC", default=False)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Production hardening (on whenever DEBUG is off) ------------------------
# X-Forwarded-Proto says "https" only when a proxy in front of us sets it (and strips the client's own):
# trusted otherwise, any client could claim a secure connection.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes says at INFO level every successful sign-in's reset; its lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Learner import from a file (an import has limits) -------------
# A larger upload, more data rows, or an xlsx whose parts unpack to more than this is refused in words.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=50 * 1024 * 1024)
# The preview lists this many rows (and every total); the bad lines listed stop at the same number.
IMPORT_PREVIEW_ROWS = env.int("IMPORT_PREVIEW_ROWS", default=100)
# An uploaded file waiting for its confirmation is deleted after this time (it holds personal data).
IMPORT_UPLOAD_MAX_AGE_MINUTES = env.int("IMPORT_UPLOAD_MAX_AGE_MINUTES", default=60)
