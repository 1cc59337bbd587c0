from django.urls import path

from alliance.insights import views

app_name = "insights"

urlpatterns = [
    path("feedback/", views.feedback_send, name="feedback_send"),
    path("feedback/all/", views.feedback_list, name="feedback_list"),
    path("feedback/<int:feedback_id>/triage/", views.feedback_triage, name="feedback_triage"),
]
