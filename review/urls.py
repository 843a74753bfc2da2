from django.urls import path

from review.audit_study.urls import urlpatterns as audit_study_urlpatterns
from review.views import (
    blinding,
    coordinator,
    coordinator_guidance,
    imports,
    people,
    reviewer,
    reviewer_guidance,
)
from review.views import results as results_views

app_name = "review"

urlpatterns = [
    # Reviewers: only assignment and study codes appear in their URLs.
    path("", reviewer.home, name="home"),
    path("s/<str:study_code>/continue/", reviewer.study_continue, name="continue"),
    path("r/<str:code>/", reviewer.rate, name="rate"),
    path("r/<str:code>/score/<slug:domain_key>/", reviewer.rate_score, name="rate_score"),
    path("r/<str:code>/comment/", reviewer.rate_comment, name="rate_comment"),
    path("r/<str:code>/submit/", reviewer.rate_submit, name="rate_submit"),
    path("r/<str:code>/heartbeat/", reviewer.rate_heartbeat, name="rate_heartbeat"),
    path(
        "r/<str:code>/score/<slug:domain_key>/clear/",
        reviewer_guidance.rate_score_clear,
        name="rate_score_clear",
    ),
    path(
        "r/<str:code>/cannot-assess/",
        reviewer_guidance.rate_cannot_assess,
        name="rate_cannot_assess",
    ),
    path("s/<str:study_code>/reports/", reviewer_guidance.my_reports, name="my_reports"),
    path("s/<str:study_code>/instructions/", reviewer_guidance.instructions, name="instructions"),
    path("preferences/text-size/", reviewer_guidance.text_size_set, name="text_size"),
    path(
        "coordinate/studies/<int:pk>/guidance/",
        coordinator_guidance.study_guidance,
        name="study_guidance",
    ),
    # Coordinators.
    path("coordinate/studies/", coordinator.study_list, name="study_list"),
    path("coordinate/studies/new/", coordinator.study_create, name="study_create"),
    path("coordinate/studies/<int:pk>/", coordinator.study_detail, name="study_detail"),
    path("coordinate/studies/<int:pk>/domains/", coordinator.study_domains, name="study_domains"),
    path(
        "coordinate/studies/<int:pk>/blinding/audit/",
        blinding.study_blinding_audit,
        name="blinding_audit",
    ),
    path(
        "coordinate/studies/<int:pk>/<slug:action>/",
        coordinator.study_action,
        name="study_action",
    ),
    # Results and exports live under coordinate/results/ so that the POST-only study
    # actions above do not shadow them.
    path("coordinate/results/<int:pk>/", results_views.study_results_page, name="study_results"),
    path(
        "coordinate/results/<int:pk>/<slug:name>.csv",
        results_views.study_export_csv,
        name="study_export_csv",
    ),
    path(
        "coordinate/results/<int:pk>/dataset.jsonl",
        results_views.study_dataset_jsonl,
        name="study_dataset_jsonl",
    ),
    path(
        "coordinate/results/<int:pk>/dataset-card.md",
        results_views.study_dataset_card,
        name="study_dataset_card",
    ),
    path(
        "coordinate/results/<int:pk>/methods-<slug:language>.md",
        results_views.study_methods_markdown,
        name="study_methods",
    ),
    path(
        "coordinate/results/<int:pk>/figures/<slug:name>.<slug:fmt>",
        results_views.study_figure,
        name="study_figure",
    ),
    path("coordinate/imports/", imports.report_import, name="report_import"),
    path("coordinate/imports/commit/", imports.report_import_confirm, name="report_import_commit"),
    path("coordinate/people/", people.people_page, name="people"),
    path("coordinate/people/<int:pk>/<slug:action>/", people.person_action, name="person_action"),
    path("coordinate/audit/", coordinator.audit_list, name="audit_list"),
    path("coordinate/reports/", coordinator.report_list, name="report_list"),
    path("coordinate/reports/<str:code>/", coordinator.report_detail, name="report_detail"),
    path("coordinate/reports/<str:code>/tags/", coordinator.report_tags, name="report_tags"),
    *audit_study_urlpatterns,
]
