from django.urls import path

from alliance.content import views

app_name = "content"

urlpatterns = [
    path("", views.programme_list, name="programme_list"),
    path("programmes/<int:programme_id>/", views.programme_detail, name="programme_detail"),
]
