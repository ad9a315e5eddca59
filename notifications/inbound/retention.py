"""Inbound mail is kept INBOUND_RETENTION_DAYS; temporary failures only as long as they can count."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import InboundMessage, SoftBounce


def purge_old_inbound(*, now=None) -> int:
    """Delete inbound mail past its retention and soft bounces past their window; returns rows deleted.

    Forgetting an old message means the same Message-ID arriving again (months later) is handled anew,
    which is harmless: every handler checks the current state before changing it."""
    now = now or timezone.now()
    inbound, _ = InboundMessage.objects.filter(
        received_at__lt=now - timedelta(days=settings.INBOUND_RETENTION_DAYS)
    ).delete()
    soft, _ = SoftBounce.objects.filter(at__lt=now - timedelta(days=settings.INBOUND_SOFT_BOUNCE_WINDOW_DAYS)).delete()
    return inbound + soft
