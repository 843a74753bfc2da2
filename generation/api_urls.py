"""REST endpoints of the generation app, mounted under /api/v1/."""

urlpatterns: list = []
