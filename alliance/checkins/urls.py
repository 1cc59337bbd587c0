from django.urls import path

from alliance.checkins import views

app_name = "checkins"

urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("new/<slug:kind>/", views.entry_new, name="entry_new"),
    path("<int:entry_id>/", views.entry_detail, name="entry_detail"),
    path("<int:entry_id>/edit/", views.entry_edit, name="entry_edit"),
    path("<int:entry_id>/history/", views.entry_history, name="entry_history"),
    path("<int:entry_id>/comments/", views.entry_comment, name="entry_comment"),
    path("patients/<int:patient_id>/", views.patient_entries, name="patient_entries"),
]
