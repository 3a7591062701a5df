from django.urls import path

from kehu.dataio.api import views

urlpatterns = [
    path("exports/", views.ExportView.as_view(), name="export"),
]
