from django.urls import path
from rest_framework.routers import SimpleRouter

from review.api import coordinator, reviewer
from review.api.audit import AuditResultsView, AuditVerifiedView
from review.api.imports import ReportImportView
from review.api.results import StudyResultsView

router = SimpleRouter()
router.register("studies", coordinator.StudyViewSet, basename="study")
router.register("reports", coordinator.ReportViewSet, basename="report")

urlpatterns = [
    path("me/queue/", reviewer.MyQueueView.as_view(), name="api-my-queue"),
    path("me/queue/page/", reviewer.MyQueuePageView.as_view(), name="api-my-queue-page"),
    path("me/next/", reviewer.MyNextView.as_view(), name="api-my-next"),
    path(
        "me/assignments/<str:code>/", reviewer.MyAssignmentView.as_view(), name="api-my-assignment"
    ),
    path(
        "me/assignments/<str:code>/ratings/",
        reviewer.MyRatingsView.as_view(),
        name="api-my-ratings",
    ),
    path(
        "me/assignments/<str:code>/submit/", reviewer.MySubmitView.as_view(), name="api-my-submit"
    ),
    path("studies/<int:pk>/results/", StudyResultsView.as_view(), name="api-study-results"),
    path("audits/<int:pk>/results/", AuditResultsView.as_view(), name="api-audit-results"),
    path("audits/<int:pk>/verified/", AuditVerifiedView.as_view(), name="api-audit-verified"),
    path("imports/", ReportImportView.as_view(), name="api-report-import"),
    *router.urls,
]
