"""The admin site in administrators' words: the organisation's name in the header, and Django's own auth models
named so nobody takes them for learner groups."""

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .attention import attention_rows

# Django's auth app holds the staff's accounts and permission groups; "Groups" alone reads like learner groups.
AUTH_WORDS = {
    "app": _("Staff accounts and permissions"),
    "Group": _("Staff permission groups"),
    "User": _("Staff users"),
}


class AdminSite(admin.AdminSite):
    index_title = _("Training administration")
    # The side menu repeats the home page and takes a fifth of a 1366-pixel screen from the lists.
    enable_nav_sidebar = False

    @property
    def site_header(self):
        return settings.ORGANISATION_NAME

    @property
    def site_title(self):
        return settings.ORGANISATION_NAME

    def index(self, request, extra_context=None):
        # The home page starts with what needs attention, as far as this user may see it.
        extra_context = {"attention": attention_rows(request.user), **(extra_context or {})}
        return super().index(request, extra_context)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] == "auth":
                app["name"] = AUTH_WORDS["app"]
                for model in app["models"]:
                    model["name"] = AUTH_WORDS.get(model["object_name"], model["name"])
        # The staff's own accounts come last: the training comes first.
        return sorted(apps, key=lambda app: app["app_label"] == "auth")
