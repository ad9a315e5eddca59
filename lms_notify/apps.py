from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "lms_notify.admin_site.AdminSite"

    def ready(self):
        super().ready()
        # This config is the project's own entry in INSTALLED_APPS: its system checks register here.
        from . import checks  # noqa: F401
