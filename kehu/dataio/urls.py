from django.urls import path

from kehu.dataio import views

app_name = "dataio"

urlpatterns = [
    path("exports/<str:object_type>/", views.export_start, name="export"),
]
