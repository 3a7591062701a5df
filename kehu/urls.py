from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("kehu.api_urls")),
    path("ops/admin/", admin.site.urls),
]
