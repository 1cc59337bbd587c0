"""Pages of the analytics (mounted at ``insights/analytics/``)."""

from django.urls import path

from alliance.insights import views_analytics as views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.service_report, name="report"),
    path("trajectories/", views.trajectories_page, name="trajectories"),
    path("alliance/", views.alliance_page, name="alliance"),
    path("patients/<int:patient_id>/", views.patient_page, name="patient"),
    path("settings/", views.settings_page, name="settings"),
]
