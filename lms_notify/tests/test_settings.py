"""Settings come only from the environment (contract: settings and commands)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables a developer's shell or .env may set; each test states its own.
CONTROLLED = [
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "EMAIL_URL",
    "CSRF_TRUSTED_ORIGINS",
    "TRUST_X_FORWARDED_PROTO",
]


def run(args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in CONTROLLED and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120)


def engine(**env):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'lms_notify.settings';"
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    )
    result = run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    """DEBUG off, a real secret, hosts and an https SITE_URL: `check --deploy` reports no warning."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="lms.example.com",
        SITE_URL="https://lms.example.com",
        CSRF_TRUSTED_ORIGINS="https://lms.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def production(tmp_path, **env):
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "lms.example.com",
        "SITE_URL": "https://lms.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        **env,
    }


def test_the_deployment_checklist_warns_about_links_sent_over_http(tmp_path):
    """issue 16: every link in a message is a bearer token built on SITE_URL; an http:// one fails the check."""
    args = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run(args, **production(tmp_path, SITE_URL="http://lms.example.com"))
    assert result.returncode != 0 and "lms_notify.W001" in result.stdout + result.stderr
    assert "SITE_URL is http://lms.example.com" in result.stdout + result.stderr


def forwarded_proto_answer(tmp_path, **env):
    """(is_secure, status) of a plain-http production request that claims X-Forwarded-Proto: https."""
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'lms_notify.settings'; django.setup();"
        "from django.test import Client;"
        "from django.test.client import RequestFactory;"
        "request = RequestFactory().get('/inbox/', HTTP_HOST='lms.example.com', HTTP_X_FORWARDED_PROTO='https');"
        "response = Client().get('/inbox/', HTTP_HOST='lms.example.com', HTTP_X_FORWARDED_PROTO='https');"
        "print(request.is_secure(), response.status_code)"
    )
    result = run(["-c", code], **production(tmp_path, **env))
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-2:]


def test_a_client_claiming_x_forwarded_proto_is_not_taken_for_https(tmp_path):
    """issue 16: with no proxy declared, a client's own X-Forwarded-Proto: https over plain http is not a
    secure request: it is redirected to https (and would get no secure cookie)."""
    assert forwarded_proto_answer(tmp_path) == ["False", "301"]


def test_the_header_is_trusted_when_the_proxy_in_front_says_it_sets_it(tmp_path):
    assert forwarded_proto_answer(tmp_path, TRUST_X_FORWARDED_PROTO="true")[0] == "True"


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    """A missing SECRET_KEY with DEBUG off must stop the app, not fall back to the development key."""
    result = run(
        ["manage.py", "check"],
        DEBUG="false",
        ALLOWED_HOSTS="lms.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_with_nothing_set_the_database_is_sqlite():
    assert engine() == "django.db.backends.sqlite3"


def test_a_postgres_database_url_selects_postgresql():
    assert engine(DATABASE_URL="postgres://lms:secret@db.example.com:5432/lms") == "django.db.backends.postgresql"
