from django.urls import path

from kehu.activities import views

app_name = "activities"

urlpatterns = [
    path("activities/log/", views.log, name="log"),
    path("activities/log/form/", views.log_form, name="log_form"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("tasks/", views.my_day, name="my_day"),
    path("tasks/all/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/for-record/", views.record_tasks, name="record_tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/delete/", views.task_delete, name="task_delete"),
]
