from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "LMS Notify"
admin.site.site_title = "LMS Notify"
admin.site.index_title = "Training administration"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("trainer/", include("live_sessions.trainer_urls")),
    path("", include("notifications.urls")),
    path("", include("live_sessions.urls")),
]
