from django.urls import path

from kehu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("reports/funnel/", views.funnel, name="funnel"),
    path("reports/funnel/export/", views.funnel_export, name="funnel_export"),
    path("reports/forecast/", views.forecast, name="forecast"),
    path("reports/forecast/export/", views.forecast_export, name="forecast_export"),
    path("reports/forecast/backtest/", views.forecast_backtest, name="forecast_backtest"),
    path("reports/performance/", views.performance_page, name="performance"),
    path("reports/performance/export/", views.performance_export, name="performance_export"),
    path("reports/targets/", views.targets, name="targets"),
    path("reports/expansion/<int:customer_id>/", views.expansion_panel, name="expansion"),
]
