"""The project's own system checks (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs):
    """Every link in a message is built on SITE_URL and is a bearer token: in production it must travel over
    https, or anyone on the recipient's network reads it."""
    site_url = str(getattr(settings, "SITE_URL", ""))
    if settings.DEBUG or not site_url.lower().startswith("http://"):
        return []
    return [
        Warning(
            f"SITE_URL is {site_url}: the links in messages would travel unencrypted.",
            hint="Set SITE_URL to the site's https:// address.",
            id="lms_notify.W001",
        )
    ]
