from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "lms_notify.admin_site.AdminSite"

    def ready(self):
        super().ready()  # discovers every app's admin.py, django.contrib.auth's included
        # This config is the project's own entry in INSTALLED_APPS: its system checks and its admin of staff
        # accounts (replacing auth's, once auth's is registered) start here.
        from django.contrib import admin

        from . import checks, staff_admin  # noqa: F401

        staff_admin.register(admin.site)
