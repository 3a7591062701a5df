from django.contrib.auth import views as auth_views
from django.urls import path

from kehu.users import settings_views, views

app_name = "users"

urlpatterns = [
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language, name="language"),
    path("me/", views.profile, name="profile"),
    path("me/tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("settings/", settings_views.index, name="settings"),
]
