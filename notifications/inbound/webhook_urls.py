"""django-anymail's webhook URLs (/anymail/<provider>/tracking/, /anymail/<provider>/inbound/), refused with
404 while ANYMAIL_WEBHOOK_SECRET is empty: anymail itself would accept unauthenticated posts then."""

from functools import wraps

from anymail.urls import urlpatterns as anymail_patterns
from django.conf import settings
from django.http import Http404
from django.urls import URLPattern


def _only_with_a_secret(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not (getattr(settings, "ANYMAIL", {}) or {}).get("WEBHOOK_SECRET"):
            raise Http404("Provider webhooks are not configured.")
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    URLPattern(pattern.pattern, _only_with_a_secret(pattern.callback), pattern.default_args, pattern.name)
    for pattern in anymail_patterns
]
