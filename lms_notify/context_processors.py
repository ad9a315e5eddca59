from django.conf import settings


def organisation(request):
    """The organisation's name, shown in page headers and the admin's site header."""
    return {"ORGANISATION_NAME": settings.ORGANISATION_NAME}
