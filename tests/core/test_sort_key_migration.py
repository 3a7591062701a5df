"""Upgrading a database that already holds records to the pinyin sort keys: every row gets its name key and
the copies of its owner's and customer's keys, and the indexes are built — on PostgreSQL too, which refuses to
index a table that still has constraint checks pending from updates in the same transaction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead
from kehu.users.models import User

BEFORE = [
    ("users", "0004_sales_manager_targets_team_scope"),
    ("customers", "0006_list_sort_indexes"),
    ("sales", "0011_campaign_name"),
]


def migrate(targets: list[tuple[str, str]] | None = None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


@pytest.mark.serial  # a transactional test flushes the database at its end: it runs apart from the rest
@pytest.mark.django_db(transaction=True)
def test_upgrading_a_database_with_records_writes_every_key() -> None:
    try:
        old = migrate(BEFORE).loader.project_state(BEFORE).apps
        owner = old.get_model("users", "User").objects.create(username="zhaowei", display_name="赵伟")
        nobody = old.get_model("users", "User").objects.create(username="Amy")
        customer = old.get_model("customers", "Customer").objects.create(name="宁波海港物流", owner_id=owner.pk)
        contacts = old.get_model("customers", "Contact").objects
        contact = contacts.create(name="张伟", customer_id=customer.pk, owner_id=owner.pk)
        loose = contacts.create(name="Anna Li")
        lead = old.get_model("sales", "Lead").objects.create(name="重庆火锅", owner_id=owner.pk)
    finally:
        migrate()

    assert User.objects.get(pk=owner.pk).name_sort == "zhaowei"
    assert User.objects.get(pk=nobody.pk).name_sort == "amy"  # no display name: the user name
    assert (Customer.objects.get(pk=customer.pk).name_sort, Customer.objects.get(pk=customer.pk).owner_sort) == (
        "ningbohaigangwuliu",
        "zhaowei",
    )
    got = Contact.objects.get(pk=contact.pk)
    assert (got.name_sort, got.owner_sort, got.customer_sort) == ("zhangwei", "zhaowei", "ningbohaigangwuliu")
    got = Contact.objects.get(pk=loose.pk)
    assert (got.name_sort, got.owner_sort, got.customer_sort) == ("annali", "", "")
    assert (Lead.objects.get(pk=lead.pk).name_sort, Lead.objects.get(pk=lead.pk).owner_sort) == (
        "chongqinghuoguo",
        "zhaowei",
    )
    indexes = connection.introspection.get_constraints(connection.cursor(), Contact._meta.db_table)
    assert {"contact_name_sort_idx", "contact_owner_sort_idx", "contact_customer_sort_idx"} <= set(indexes)
