from django.urls import path

from kehu.analytics import partner_views, views

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
    path("reports/partners/", partner_views.partners_page, name="partners"),
    path("reports/partners/export/", partner_views.partners_export, name="partners_export"),
    path("reports/partners/<int:customer_id>/deals/", partner_views.partner_deals_panel, name="partner_deals"),
    path("reports/expansion/<int:customer_id>/", views.expansion_panel, name="expansion"),
]
