"""REST endpoints of the generation app, mounted under /api/v1/."""

from django.urls import path

from generation import api

urlpatterns = [
    path("batches/", api.BatchCreateView.as_view(), name="api-batch-create"),
    path("batches/<int:pk>/", api.BatchDetailView.as_view(), name="api-batch-detail"),
    path("batches/<int:pk>/cancel/", api.BatchCancelView.as_view(), name="api-batch-cancel"),
    path(
        "batches/<int:pk>/retry-failed/",
        api.BatchRetryFailedView.as_view(),
        name="api-batch-retry-failed",
    ),
]
