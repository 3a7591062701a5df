"""The REST API under /api/v1/, the OpenAPI schema and its browsable docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from kehu.core import apiviews

router = SimpleRouter()
router.register("custom-fields", apiviews.CustomFieldViewSet, basename="customfield")
router.register("events", apiviews.EventViewSet, basename="event")
router.register("jobs", apiviews.JobViewSet, basename="job")

v1 = [
    path("", include("kehu.users.api.urls")),
    path("", include("kehu.customers.api.urls")),
    path("", include("kehu.sales.api.urls")),
    path("", include("kehu.analytics.api.urls")),
    path("", include("kehu.activities.api.urls")),
    path("", include("kehu.dataio.api.urls")),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", apiviews.docs, name="api-docs"),
]
