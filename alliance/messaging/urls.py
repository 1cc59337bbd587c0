from django.urls import path

from alliance.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.my_thread, name="my_thread"),
    path("supporter-change/", views.supporter_change, name="supporter_change"),
    path("inbox/", views.inbox, name="inbox"),
    path("patients/<int:patient_id>/", views.patient_thread, name="patient_thread"),
    path("settings/", views.messaging_settings, name="settings"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
]
