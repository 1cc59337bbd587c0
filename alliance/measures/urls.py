from django.urls import path

from alliance.measures import views

app_name = "measures"

urlpatterns = [
    path("my/questionnaires/", views.my_questionnaires, name="my_questionnaires"),
    path("my/questionnaires/<int:request_id>/", views.fill_in, name="fill_in"),
    path("my/questionnaires/<int:request_id>/done/", views.done, name="done"),
    path("patients/<int:patient_id>/scores/", views.patient_scores, name="patient_scores"),
    path("patients/<int:patient_id>/scores/send/", views.send, name="send"),
    path(
        "patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge/",
        views.acknowledge,
        name="acknowledge",
    ),
    path("service/licences/", views.licences, name="licences"),
]
