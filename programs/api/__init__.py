"""The measures' API: each part registers its viewsets on one router and may add plain routes."""

from rest_framework.routers import SimpleRouter

from . import enrollments, facilities, inspections, subsidies, targets

PARTS = (targets, enrollments, facilities, subsidies, inspections)

router = SimpleRouter(trailing_slash=True)
for part in PARTS:
    part.register(router)

urlpatterns = [*router.urls]
for part in PARTS:
    urlpatterns += getattr(part, "urlpatterns", [])
