from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.analytics.api import views

router = SimpleRouter()
router.register("targets", views.TargetViewSet, basename="target")

urlpatterns = [
    path("reports/funnel/", views.FunnelView.as_view(), name="report_funnel"),
    path("reports/forecast/", views.ForecastView.as_view(), name="report_forecast"),
    path("reports/performance/", views.PerformanceView.as_view(), name="report_performance"),
    path("reports/partners/", views.PartnersView.as_view(), name="report_partners"),
    path("reports/expansion/", views.ExpansionView.as_view(), name="report_expansion"),
    *router.urls,
]
