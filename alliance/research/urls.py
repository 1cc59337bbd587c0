from django.urls import path

from alliance.research import views

app_name = "research"

P = "projects/<int:project_id>/"

urlpatterns = [
    path("consent/", views.consent, name="consent"),
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path(P, views.project_detail, name="project_detail"),
    path(P + "refresh/", views.project_refresh, name="project_refresh"),
    path(P + "members/", views.member_add, name="member_add"),
    path(P + "status/", views.project_status, name="project_status"),
    path(P + "documents/", views.document_list, name="document_list"),
    path(P + "documents/<int:document_id>/code/", views.code_document, name="code_document"),
    path(P + "documents/<int:document_id>/done/", views.document_done, name="document_done"),
    path(P + "codings/<int:coding_id>/delete/", views.coding_delete, name="coding_delete"),
    path(P + "codebook/", views.codebook, name="codebook"),
    path(P + "codebook/codes/<int:code_id>/", views.code_edit, name="code_edit"),
    path(P + "codebook/codes/<int:code_id>/delete/", views.code_delete, name="code_delete"),
    path(P + "codebook/starter/", views.codebook_starter, name="codebook_starter"),
    path(P + "codebook/import/", views.codebook_import, name="codebook_import"),
    path(P + "codebook/export.qdc", views.codebook_export, name="codebook_export"),
    path(P + "agreement/", views.agreement_page, name="agreement"),
    path(P + "reconcile/", views.reconcile, name="reconcile"),
    path(P + "reconcile/<int:document_id>/<int:code_id>/", views.decide, name="decide"),
    path(P + "themes/", views.themes, name="themes"),
    path(P + "themes/<int:theme_id>/", views.theme_edit, name="theme_edit"),
    path(P + "themes/<int:theme_id>/delete/", views.theme_delete, name="theme_delete"),
    path(P + "report/", views.report, name="report"),
    path(P + "suggestions/", views.suggestions, name="suggestions"),
    path(
        P + "suggestions/<int:suggestion_id>/groups/<int:index>/code/",
        views.suggestion_add_code,
        name="suggestion_add_code",
    ),
    path(P + "export.qdpx", views.project_export, name="project_export"),
    path(P + "import/", views.project_import, name="project_import"),
]
