"""Names sort the way a reader of Chinese expects: by pinyin, among the Latin names, case and width ignored —
in every list sorted by name, by a customer or by an owner, and in the owner choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core.collation import backfill, sort_key
from kehu.customers import services as customer_services
from kehu.customers.lists import CUSTOMER_LIST
from kehu.customers.models import Customer
from kehu.sales.models import Lead
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead

pytestmark = pytest.mark.django_db

NAMES = ["苏州新材料", "Acme Trading", "宁波海港物流", "杭州未来科技", "nanjing port", "重庆火锅连锁", "ＢＥＴＡ Labs"]
EXPECTED = [
    "Acme Trading",
    "ＢＥＴＡ Labs",
    "重庆火锅连锁",
    "杭州未来科技",
    "nanjing port",
    "宁波海港物流",
    "苏州新材料",
]


def names(response: Any) -> list[str]:
    assert response.status_code == 200 and not response.context["errors"], response.context["errors"]
    return [o.name for o in response.context["objects"]]


def test_the_key_reads_chinese_as_pinyin_in_context_and_folds_case_and_width() -> None:
    assert sort_key("重庆火锅") == "chongqinghuoguo"  # 重 read as chong in 重庆, not zhong
    assert sort_key("ＢＥＴＡ Labs!") == "betalabs"
    assert sorted(NAMES, key=sort_key) == EXPECTED
    assert sort_key("") == "" and len(sort_key("长" * 500)) == 200


def test_customer_list_sorted_by_name_is_in_pinyin_order(users: dict, login: Callable[[str], Client]) -> None:
    for name in NAMES:
        make_customer(users["rep"], name)
    client = login("rep")
    assert names(client.get("/customers/", {"sort": "name"})) == EXPECTED
    assert names(client.get("/customers/", {"sort": "-name"})) == EXPECTED[::-1]


def test_pages_of_a_name_sort_follow_the_same_order(
    users: dict, login: Callable[[str], Client], monkeypatch: Any
) -> None:
    monkeypatch.setattr(CUSTOMER_LIST, "page_size", 3)
    for name in NAMES:
        make_customer(users["rep"], name)
    client = login("rep")
    seen: list[str] = []
    url = "/customers/?sort=name"
    while url:
        response = client.get(url)
        seen += names(response)
        cursor = response.context.get("next_cursor")
        url = f"/customers/?sort=name&cursor={cursor}" if cursor else ""
    assert seen == EXPECTED


def test_a_renamed_record_moves_to_its_new_place(users: dict, login: Callable[[str], Client]) -> None:
    acme = make_customer(users["rep"], "Acme Trading")
    make_customer(users["rep"], "杭州未来科技")
    customer_services.update_customer(actor=users["rep"], customer=acme, values={"name": "温州鞋业"})
    assert names(login("rep").get("/customers/", {"sort": "name"})) == ["杭州未来科技", "温州鞋业"]


def test_contacts_sorted_by_customer_and_leads_by_name(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    for company in ("苏州新材料", "Acme Trading", "杭州未来科技"):
        make_contact(rep, "张伟", customer=make_customer(rep, company))
    for name in ("王芳", "Anna Li", "陈静"):
        make_lead(rep, name)
    client = login("rep")
    response = client.get("/contacts/", {"sort": "customer"})
    assert [c.customer.name for c in response.context["objects"]] == ["Acme Trading", "杭州未来科技", "苏州新材料"]
    assert names(client.get("/leads/", {"sort": "name"})) == ["Anna Li", "陈静", "王芳"]


def test_owners_sort_and_are_offered_by_their_names_in_pinyin(users: dict, login: Callable[[str], Client]) -> None:
    for username, display in (("u_zhao", "赵磊"), ("u_amy", "Amy Chen"), ("u_li", "李娜")):
        User.objects.create_user(username, display_name=display, team=users["rep"].team)
    shown = [str(u) for u in User.objects.filter(username__startswith="u_")]
    assert shown == ["Amy Chen", "李娜", "赵磊"]  # the default order of users: owner pickers, settings
    a = make_customer(users["rep"], "甲")
    b = make_customer(users["rep"], "乙")
    customer_services.assign(actor=users["manager"], obj=a, owner=User.objects.get(username="u_zhao"))
    customer_services.assign(actor=users["manager"], obj=b, owner=User.objects.get(username="u_li"))
    response = login("manager").get("/customers/", {"sort": "owner"})
    owners = [str(o.owner) for o in response.context["objects"] if o.pk in (a.pk, b.pk)]
    assert owners == ["李娜", "赵磊"]


def test_bulk_writes_and_the_upgrade_fill_the_key(users: dict) -> None:
    rep = users["rep"]
    Lead.objects.bulk_create([Lead(name="杭州客户", owner=rep, team=rep.team)])
    assert Lead.objects.get(name="杭州客户").name_sort == "hangzhoukehu"
    made = make_customer(rep, "宁波海港物流")
    Customer.objects.filter(pk=made.pk).update(name_sort="")  # as a row written before the key existed
    assert backfill(Customer, ("name",), batch_size=1) == Customer.objects.count()
    assert Customer.objects.get(pk=made.pk).name_sort == "ningbohaigangwuliu"


def test_sorts_by_a_linked_name_follow_renames_and_reassignments(users: dict, login: Callable[[str], Client]) -> None:
    """A contact keeps a copy of its customer's key and every record of its owner's, so renaming the customer
    or the owner, and giving a record to someone else, move it in those sorts."""
    from kehu.users import services as user_services

    rep, manager = users["rep"], users["manager"]
    acme, hz = make_customer(rep, "Acme Trading"), make_customer(rep, "杭州未来科技")
    a, b = make_contact(rep, "张伟", customer=acme), make_contact(rep, "李娜", customer=hz)
    client = login("manager")

    def order(url: str) -> list[int]:
        response = client.get(url)
        assert response.status_code == 200 and not response.context["errors"]
        return [o.pk for o in response.context["objects"] if o.pk in (a.pk, b.pk, acme.pk, hz.pk)]

    assert order("/contacts/?sort=customer") == [a.pk, b.pk]
    customer_services.update_customer(actor=rep, customer=acme, values={"name": "温州鞋业"})
    assert order("/contacts/?sort=customer") == [b.pk, a.pk]

    zhao = User.objects.create_user("u_zhao", display_name="赵磊", team=rep.team)
    customer_services.bulk_update(actor=manager, model=Customer, ids=[acme.pk], action="assign", value=zhao)
    customer_services.assign(actor=manager, obj=hz, owner=User.objects.get(username="rep_hz"))
    hz_owner = str(User.objects.get(username="rep_hz"))
    assert sort_key(hz_owner) < sort_key("赵磊")
    assert order("/customers/?sort=owner") == [hz.pk, acme.pk]
    user_services.update_user(actor=users["admin"], user=zhao, values={"display_name": "Adam Zhao"})
    assert order("/customers/?sort=owner") == [acme.pk, hz.pk]
    assert order("/customers/?sort=-owner") == [hz.pk, acme.pk]


def test_the_upgrade_writes_the_keys_and_copies_of_existing_rows(users: dict) -> None:
    from kehu.customers.models import Contact

    rep = users["rep"]
    contact = make_contact(rep, "张伟", customer=make_customer(rep, "宁波海港物流"))
    loose = make_contact(rep, "王芳")
    Contact.objects.update(name_sort="", customer_sort="", owner_sort="")  # rows written before the keys existed
    links = {"owner_sort": ("owner__display_name", "owner__username"), "customer_sort": ("customer__name",)}
    assert backfill(Contact, ("name",), links, batch_size=1) == 2
    contact.refresh_from_db()
    loose.refresh_from_db()
    assert (contact.name_sort, contact.customer_sort, contact.owner_sort) == ("zhangwei", "ningbohaigangwuliu", "rep")
    assert (loose.name_sort, loose.customer_sort) == ("wangfang", "")


def test_a_link_to_a_record_built_in_memory_still_copies_its_key(users: dict) -> None:
    """The bulk paths (demo, imports) link records built in memory: the copy is made from the name they carry,
    or read when they carry none."""
    from kehu.core import collation
    from kehu.customers.models import Contact

    rep = users["rep"]
    saved = make_customer(rep, "宁波海港物流")
    named = Contact(name="张伟", owner=rep, customer=Customer(pk=saved.pk, name=saved.name))
    bare = Contact(name="李娜", owner=rep, customer=Customer(pk=saved.pk))
    collation.fill([named, bare])
    assert named.customer_sort == bare.customer_sort == "ningbohaigangwuliu"
    assert named.owner_sort == rep.name_sort != ""


def test_bulk_updates_of_names_and_owners_rewrite_the_keys(users: dict) -> None:
    from kehu.customers.models import Contact

    rep, rep2 = users["rep"], users["rep2"]
    customer = make_customer(rep, "Acme Trading")
    contact = make_contact(rep, "张伟", customer=customer)
    customer.name, customer.owner = "宁波海港物流", rep2
    Customer.objects.bulk_update([customer], ["name", "owner"])
    got = Customer.objects.get(pk=customer.pk)
    assert (got.name_sort, got.owner_sort) == ("ningbohaigangwuliu", rep2.name_sort)
    assert Contact.objects.get(pk=contact.pk).customer_sort == "ningbohaigangwuliu"  # the contacts follow


def test_an_edit_that_keeps_the_links_reads_no_linked_key(users: dict, django_assert_num_queries: Any) -> None:
    """Every save keeps the keys right, but copies are looked up only when a link changed: an ordinary edit of
    a contact is its one UPDATE, a change of customer reads that customer's key."""
    from kehu.customers.models import Contact

    rep = users["rep"]
    first, second = make_customer(rep, "Acme Trading"), make_customer(rep, "宁波海港物流")
    contact = Contact.objects.get(pk=make_contact(rep, "张伟", customer=first).pk)
    contact.title = "采购经理"
    with django_assert_num_queries(1):
        contact.save()
    contact.customer_id = second.pk
    with django_assert_num_queries(2):
        contact.save()
    assert Contact.objects.get(pk=contact.pk).customer_sort == "ningbohaigangwuliu"
