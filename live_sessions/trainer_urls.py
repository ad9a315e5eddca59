from django.urls import path

from . import trainer_views

app_name = "trainer"

urlpatterns = [
    path("", trainer_views.session_list, name="sessions"),
    path("login/", trainer_views.TrainerLoginView.as_view(), name="login"),
    path("logout/", trainer_views.TrainerLogoutView.as_view(), name="logout"),
    path("sessions/<int:session_id>/attendance/", trainer_views.attendance, name="attendance"),
    path("sessions/<int:session_id>/go-show/", trainer_views.add_go_show, name="go_show"),
]
