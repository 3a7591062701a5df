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
    path("settings/users/", settings_views.user_list, name="settings_users"),
    path("settings/users/new/", settings_views.user_create, name="settings_user_create"),
    path("settings/users/<int:pk>/", settings_views.user_edit, name="settings_user_edit"),
    path("settings/users/<int:pk>/password/", settings_views.user_password, name="settings_user_password"),
    path("settings/users/<int:pk>/active/", settings_views.user_active, name="settings_user_active"),
    path("settings/teams/", settings_views.team_list, name="settings_teams"),
    path("settings/teams/new/", settings_views.team_create, name="settings_team_create"),
    path("settings/teams/<int:pk>/", settings_views.team_edit, name="settings_team_edit"),
    path("settings/teams/<int:pk>/delete/", settings_views.team_delete, name="settings_team_delete"),
    path("settings/roles/", settings_views.role_list, name="settings_roles"),
    path("settings/roles/new/", settings_views.role_create, name="settings_role_create"),
    path("settings/roles/<int:pk>/", settings_views.role_edit, name="settings_role_edit"),
    path("settings/roles/<int:pk>/delete/", settings_views.role_delete, name="settings_role_delete"),
    path("settings/fields/", settings_views.field_list, name="settings_fields"),
    path("settings/fields/new/", settings_views.field_create, name="settings_field_create"),
    path("settings/fields/<int:pk>/", settings_views.field_edit, name="settings_field_edit"),
    path("settings/fields/<int:pk>/delete/", settings_views.field_delete, name="settings_field_delete"),
    path("settings/picklists/", settings_views.picklist_list, name="settings_picklists"),
    path("settings/picklists/<slug:list_key>/new/", settings_views.picklist_create, name="settings_option_create"),
    path("settings/picklists/options/<int:pk>/", settings_views.picklist_edit, name="settings_option_edit"),
    path("settings/picklists/options/<int:pk>/toggle/", settings_views.picklist_toggle, name="settings_option_toggle"),
]
