"""Routes of the annotation audit, included in review/urls.py (namespace "review")."""

from django.urls import path

from review.audit_study import views

urlpatterns = [
    # Reviewers: only assignment codes in their URLs, as on the rating page.
    path("a/<str:code>/", views.audit_page, name="audit"),
    path("a/<str:code>/verdict/<int:index>/", views.audit_verdict, name="audit_verdict"),
    path("a/<str:code>/add/", views.audit_add, name="audit_add"),
    path(
        "a/<str:code>/added/<int:added_id>/delete/",
        views.audit_added_delete,
        name="audit_added_delete",
    ),
    path("a/<str:code>/submit/", views.audit_submit, name="audit_submit"),
    # Coordinators.
    path("coordinate/audits/<int:pk>/", views.audit_results_page, name="audit_results"),
    path(
        "coordinate/audits/<int:pk>/adjudicate/",
        views.audit_adjudication,
        name="audit_adjudication",
    ),
    path(
        "coordinate/audits/<int:pk>/<slug:name>.csv",
        views.audit_export_csv,
        name="audit_export_csv",
    ),
    path(
        "coordinate/audits/<int:pk>/verified.jsonl",
        views.audit_verified_jsonl,
        name="audit_verified_jsonl",
    ),
    path(
        "coordinate/audits/<int:pk>/verified.zip",
        views.audit_verified_archive,
        name="audit_verified_archive",
    ),
    path(
        "coordinate/audits/<int:pk>/verified-card.md",
        views.audit_verified_card,
        name="audit_verified_card",
    ),
]
