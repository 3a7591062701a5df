from django.contrib import admin
from django.urls import include, path

from kehu.users.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("", include("kehu.core.urls")),
    path("", include("kehu.users.urls")),
    path("", include("kehu.customers.urls")),
    path("", include("kehu.sales.urls")),
    path("", include("kehu.analytics.urls")),
    path("", include("kehu.activities.urls")),
    path("", include("kehu.dataio.urls")),
    path("api/", include("kehu.api_urls")),
    path("ops/admin/", admin.site.urls),
]

# unmatched addresses under /api/ answer in the API's JSON error shape (kehu.core.api.not_found)
handler404 = "kehu.core.api.not_found"
