from django.urls import path

from alliance.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.centre, name="centre"),
    path("all-read/", views.read_all, name="read_all"),
    path("<int:notification_id>/read/", views.read, name="read"),
    path("settings/", views.reminder_settings, name="settings"),
    path("patients/<int:patient_id>/log/", views.delivery_log, name="delivery_log"),
    path("open/<str:token>/", views.opened, name="opened"),
    path("go/<str:token>/", views.follow, name="follow"),
]
