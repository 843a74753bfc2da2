"""Coordinator pages of the generation app (mounted at /generation/)."""

from django.urls import path

from generation import views

app_name = "generation"
urlpatterns = [
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/new/", views.batch_launch, name="batch_launch"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/<slug:action>/", views.batch_action, name="batch_action"),
    path("items/<int:pk>/", views.item_report, name="item_report"),
    path("studies/<int:pk>/judge/", views.study_judge, name="study_judge"),
    path("frames/", views.frame_list, name="frame_list"),
    path("frames/<int:pk>/download/", views.frame_download, name="frame_download"),
    path("guidelines/", views.guideline_list, name="guideline_list"),
    path("guidelines/<int:pk>/download/", views.guideline_download, name="guideline_download"),
]
