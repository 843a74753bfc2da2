from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from review.views.people import PasswordSetView
from synthreports.api_access import SchemaReaders
from synthreports.api_root import ApiRootView


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Browsers ask for /favicon.ico whatever the page declares; send them to the real icon.
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "welcome/<uidb64>/<token>/",
        PasswordSetView.as_view(),
        name="password_set",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # The schema documents coordinator fields: coordinators only (see SchemaReaders).
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[SchemaReaders]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[SchemaReaders]),
        name="api-docs",
    ),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include("review.api.urls")),
    path("api/v1/", include("generation.api_urls")),
    path("generation/", include("generation.urls")),
    path("", include("review.urls")),
]

handler404 = "synthreports.errors.not_found"
handler500 = "synthreports.errors.server_error"
