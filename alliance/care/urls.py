from django.urls import path

from alliance.care import views

app_name = "care"

urlpatterns = [
    path("my/", views.week, name="week"),
    path("my/modules/<int:assignment_id>/", views.module_resume, name="module_resume"),
    path(
        "my/modules/<int:assignment_id>/<int:page_number>/", views.module_page, name="module_page"
    ),
    path("my/homework/<int:homework_id>/", views.homework_toggle, name="homework_toggle"),
    path("my/contacts/", views.my_contacts, name="my_contacts"),
    path("my/contacts.ics", views.my_calendar, name="my_calendar"),
    path(
        "my/contacts/<int:contact_id>.ics",
        views.my_contact_calendar,
        name="my_contact_calendar",
    ),
    path("reviews/", views.review_queue, name="review_queue"),
    path("reviews/schedule/", views.review_schedule, name="review_schedule"),
    path("patients/<int:patient_id>/review/", views.review, name="review"),
    path("patients/<int:patient_id>/review/start/", views.review_start, name="review_start"),
    path("patients/<int:patient_id>/contacts/", views.contacts, name="contacts"),
    path(
        "patients/<int:patient_id>/contacts/<int:contact_id>/",
        views.contact_outcome,
        name="contact_outcome",
    ),
    path("patients/<int:patient_id>/plan/", views.plan, name="plan"),
    path("patients/<int:patient_id>/plan/addons/", views.plan_addon, name="plan_addon"),
    path(
        "patients/<int:patient_id>/plan/<int:assignment_id>/<slug:action>/",
        views.plan_action,
        name="plan_action",
    ),
    path("patients/<int:patient_id>/episodes/", views.episode_start, name="episode_start"),
    path("patients/<int:patient_id>/episodes/end/", views.episode_end, name="episode_end"),
    path("patients/<int:patient_id>/homework/", views.homework_set, name="homework_set"),
]
