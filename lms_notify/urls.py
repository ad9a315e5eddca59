from django.contrib import admin
from django.urls import include, path

from .views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("trainer/", include("live_sessions.trainer_urls")),
    path("", include("notifications.urls")),
    path("", include("live_sessions.urls")),
    # Providers' webhooks: django-anymail's views, answering only while a webhook secret is set.
    path("anymail/", include("notifications.inbound.webhook_urls")),
]
