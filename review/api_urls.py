from django.urls import path
from rest_framework.routers import SimpleRouter

from review import api
from review.api_imports import ReportImportView
from review.api_results import StudyResultsView

router = SimpleRouter()
router.register("studies", api.StudyViewSet, basename="study")
router.register("reports", api.ReportViewSet, basename="report")

urlpatterns = [
    path("me/queue/", api.MyQueueView.as_view(), name="api-my-queue"),
    path("me/assignments/<str:code>/", api.MyAssignmentView.as_view(), name="api-my-assignment"),
    path(
        "me/assignments/<str:code>/ratings/",
        api.MyRatingsView.as_view(),
        name="api-my-ratings",
    ),
    path("me/assignments/<str:code>/submit/", api.MySubmitView.as_view(), name="api-my-submit"),
    path("studies/<int:pk>/results/", StudyResultsView.as_view(), name="api-study-results"),
    path("imports/", ReportImportView.as_view(), name="api-report-import"),
    *router.urls,
]

# Study results (statistics), kept in its own module.
