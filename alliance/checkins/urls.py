from django.urls import path

from alliance.checkins import views, views_daily

app_name = "checkins"

urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("new/<slug:kind>/", views.entry_new, name="entry_new"),
    path("<int:entry_id>/", views.entry_detail, name="entry_detail"),
    path("<int:entry_id>/edit/", views.entry_edit, name="entry_edit"),
    path("<int:entry_id>/history/", views.entry_history, name="entry_history"),
    path("<int:entry_id>/comments/", views.entry_comment, name="entry_comment"),
    path("patients/<int:patient_id>/", views.patient_entries, name="patient_entries"),
    # The daily check-in.
    path("checkin/", views_daily.checkin_today, name="checkin_today"),
    path("checkin/calendar/", views_daily.checkin_calendar, name="checkin_calendar"),
    path("checkin/trend/", views_daily.checkin_trend, name="checkin_trend"),
    path("checkin/welcome-back/", views_daily.checkin_welcome_back, name="checkin_welcome_back"),
    path("checkin/offline/", views_daily.checkin_offline, name="checkin_offline"),
    path(
        "checkin/saved-offline/",
        views_daily.checkin_saved_offline,
        name="checkin_saved_offline",
    ),
    path(
        "patients/<int:patient_id>/checkins/",
        views_daily.patient_checkins,
        name="patient_checkins",
    ),
    # The installable web app.
    path("manifest.webmanifest", views_daily.manifest, name="manifest"),
    path("sw.js", views_daily.service_worker, name="service_worker"),
]
