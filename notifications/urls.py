from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("a/<str:token>/", views.action, name="action"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/open/<str:token>/", views.inbox_open, name="inbox_open"),
    path("inbox/preferences/", views.inbox_preferences, name="inbox_preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
