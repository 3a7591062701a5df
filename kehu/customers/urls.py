from django.urls import path

from kehu.customers import views

app_name = "customers"

urlpatterns = [
    path("customers/", views.customer_list, name="list"),
    path("customers/new/", views.customer_create, name="create"),
    path("customers/bulk/", views.customer_bulk, name="bulk"),
    path("customers/lookup/", views.customer_lookup, name="lookup"),
    path("customers/<int:pk>/", views.customer_detail, name="detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="edit"),
    path("customers/<int:pk>/stage/", views.customer_stage, name="stage"),
    path("customers/<int:pk>/delete/", views.customer_delete, name="delete"),
    path("customers/<int:pk>/assign/", views.assign, {"kind": "customer"}, name="assign"),
    path("contacts/<int:pk>/assign/", views.assign, {"kind": "contact"}, name="contact_assign"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/bulk/", views.contact_bulk, name="contact_bulk"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
]
