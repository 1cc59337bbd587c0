"""Support pages, mounted at the site root: the caseload, the brief, supervision."""

from django.urls import path

from alliance.insights import views_support as views

app_name = "support"

urlpatterns = [
    path("caseload/", views.caseload, name="caseload"),
    path("patients/<int:patient_id>/brief/", views.brief, name="brief"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/patients/<int:patient_id>/reassign/", views.reassign, name="reassign"),
    path("supervision/requests/<int:change_id>/decide/", views.decide, name="decide"),
]
