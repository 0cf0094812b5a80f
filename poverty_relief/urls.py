from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts import views as account_views
from accounts.api import MeView, ObtainTokenView
from areas.api import AreaViewSet
from beneficiaries.api import registry_api_urls
from imports.api import urlpatterns as imports_api_urls
from programs.api import urlpatterns as programs_api_urls
from reporting.api import urlpatterns as reporting_api_urls

from .health import healthz

router = SimpleRouter(trailing_slash=True)
router.register("areas", AreaViewSet, basename="area")

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
    *registry_api_urls,
    *imports_api_urls,
    *programs_api_urls,
    *reporting_api_urls,
]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include(("accounts.urls", "accounts"))),
    path("areas/", include("areas.urls")),
    path("registry/", include("beneficiaries.urls")),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
    path("", include("programs.urls")),
    path("", include("reporting.views")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "poverty_relief.middleware.bad_request"
handler500 = "poverty_relief.middleware.server_error"
