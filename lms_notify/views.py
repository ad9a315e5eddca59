"""The project's own pages."""

from django.shortcuts import redirect


def home(request):
    """The site's address: staff go to the admin; anyone else — a learner following a button of an
    email — to her own pages (her training and messages), never to the staff login."""
    if request.user.is_active and request.user.is_staff:
        return redirect("admin:index")
    return redirect("notifications:inbox")
