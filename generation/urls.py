"""Coordinator pages of the generation app (filled in by the generation pipeline)."""

app_name = "generation"
urlpatterns: list = []
