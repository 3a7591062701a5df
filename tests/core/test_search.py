"""Global search: Chinese names (simplified and traditional), pinyin and initials, phone digits, e-mail
fragments, long Latin names, zero hits and very common tokens — through the gate, identical on SQLite and
PostgreSQL (CI runs this module on both), and kept in step with the records."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core import search
from kehu.core.models import SearchEntry
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.users import services as user_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def titles(user: User, q: str) -> list[tuple[str, str]]:
    return [(h.object_type.key, h.title) for h in search.search(user, q)]


@pytest.fixture
def world(role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any) -> dict:
    rep, south = role_users["rep"], role_users["rep_south"]
    yunfan = customer_factory(owner=rep, name="杭州云帆科技有限公司", city="杭州")
    zhang = contact_factory(
        owner=rep,
        customer=yunfan,
        name="张伟",
        channels=[
            {"kind": "phone", "value": "138 1234 5678"},
            {"kind": "email", "value": "WeiWei.Z@CloudSail.cn"},
        ],
    )
    latin = contact_factory(
        owner=rep,
        name="Maximilian Alexander Featherstonehaugh",
        channels=[{"kind": "phone", "value": "+44 20 7946 0958"}],
    )
    lead = lead_factory(owner=rep, name="李娜", company="苏州织造", email="li.na@suzhou-weave.cn")
    nanfang = customer_factory(owner=south, name="广州南方贸易有限公司")
    zhang_south = contact_factory(
        owner=south, customer=nanfang, name="张伟", channels=[{"kind": "phone", "value": "13922225678"}]
    )
    return {
        "yunfan": yunfan,
        "zhang": zhang,
        "latin": latin,
        "lead": lead,
        "nanfang": nanfang,
        "zhang_south": zhang_south,
    }


ZHANG = [("customers.contact", "张伟")]
# query → what the rep (华东区, own records) finds; the same list on SQLite and PostgreSQL
REP_EXPECTED: list[tuple[str, list[tuple[str, str]]]] = [
    ("张伟", ZHANG),
    ("張偉", ZHANG),  # traditional characters fold to simplified
    ("zhangwei", ZHANG),
    ("ZhangWei", ZHANG),
    ("zw", ZHANG),
    ("张", ZHANG),
    ("5678", ZHANG),  # a phone's last four digits
    ("13812345678", ZHANG),
    ("+8613812345678", ZHANG),
    ("+86 138 1234 5678", ZHANG),  # a number as people write it
    ("138-1234-5678", ZHANG),
    ("weiwei.z", ZHANG),  # e-mail fragments
    ("weiwei.z@cloudsail.cn", ZHANG),
    ("cloudsa", ZHANG),
    ("weiweiz", ZHANG),
    ("云帆", [("customers.contact", "张伟"), ("customers.customer", "杭州云帆科技有限公司")]),
    ("张伟 云帆", ZHANG),  # name and company together
    ("Featherstonehaugh", [("customers.contact", "Maximilian Alexander Featherstonehaugh")]),
    ("maximilian feath", [("customers.contact", "Maximilian Alexander Featherstonehaugh")]),
    ("0958", [("customers.contact", "Maximilian Alexander Featherstonehaugh")]),
    ("李娜", [("sales.lead", "李娜")]),
    ("lina", [("sales.lead", "李娜")]),
    ("suzhou-weave", [("sales.lead", "李娜")]),
    ("苏州织造", [("sales.lead", "李娜")]),
    ("欧阳锋", []),  # three characters, no such person
    ("ouyangfeng", []),
    ("9999", []),
    ("广州南方", []),  # another team's customer
    ("", []),
    ("  ", []),
    ("'\"()*:&|!", []),  # query syntax characters of tsquery and FTS5 are just text
]


@pytest.mark.parametrize(("query", "expected"), REP_EXPECTED)
def test_rep_finds(world: dict, role_users: dict[str, User], query: str, expected: list) -> None:
    # newest first; compare as sets where order is not what the test is about
    assert sorted(titles(role_users["rep"], query)) == sorted(expected)


def test_results_go_through_the_gate(world: dict, role_users: dict[str, User]) -> None:
    rep, south, manager = role_users["rep"], role_users["rep_south"], role_users["manager"]
    assert [h.object_id for h in search.search(rep, "张伟")] == [world["zhang"].pk]
    assert [h.object_id for h in search.search(south, "张伟")] == [world["zhang_south"].pk]
    # the sales manager sees 华东区 and 华南区: both, newest first
    assert [h.object_id for h in search.search(manager, "张伟")] == [world["zhang_south"].pk, world["zhang"].pk]
    assert [h.object_id for h in search.search(rep, "5678")] == [world["zhang"].pk]
    # a service agent sees every customer and contact but no leads
    assert titles(role_users["agent"], "李娜") == []
    assert len(search.search(role_users["agent"], "张伟")) == 2
    assert search.search(role_users["nobody"], "张伟") == []
    # a type filter
    assert [h.title for h in search.search(rep, "云帆", types=["customers.customer"])] == ["杭州云帆科技有限公司"]


def test_contact_found_only_through_a_hidden_field_is_not_returned(
    world: dict, role_users: dict[str, User], superuser: User, user_factory: Any, team_tree: Any
) -> None:
    role = user_services.save_role(
        actor=superuser,
        role=None,
        data={"code": "no_channels", "name_en": "Reads contacts without channels", "name_zh": "无联系方式"},
        grants={"customers.contact": (["view"], "all", {"channels": "hidden"})},
    )
    reader = user_factory(username="reader", team=team_tree["hq"])
    user_services.update_user(actor=superuser, user=reader, values={}, roles=[role])
    reader = User.objects.get(pk=reader.pk)
    assert search.search(reader, "5678") == []
    assert search.search(reader, "cloudsail") == []
    assert search.search(reader, "13812345678") == []
    # the name is readable, so the name finds both 张伟
    assert len(search.search(reader, "张伟")) == 2
    # and a query matching name and a hidden field together is no way around it
    assert search.search(reader, "张伟 5678") == []


def test_very_common_token_returns_newest_first_and_at_most_the_limit(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    made = [customer_factory(owner=rep, name=f"第{i}号科技有限公司") for i in range(30)]
    hits = search.search(rep, "科技")
    assert len(hits) == search.MAX_RESULTS
    assert [h.object_id for h in hits] == [c.pk for c in reversed(made)][: search.MAX_RESULTS]
    assert len(search.search(rep, "有限公司", limit=5)) == 5
    assert search.search(rep, "科技 欧阳锋") == []


def test_entries_follow_updates_and_deletion(world: dict, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer_services.update_customer(actor=rep, customer=world["yunfan"], values={"name": "宁波海曙贸易有限公司"})
    assert titles(rep, "云帆") == []
    assert sorted(titles(rep, "海曙")) == [
        ("customers.contact", "张伟"),
        ("customers.customer", "宁波海曙贸易有限公司"),
    ]
    entry = SearchEntry.objects.get(content_type__model="contact", object_id=world["zhang"].pk)
    assert "宁波海曙贸易有限公司" in entry.subtitle

    # a new phone replaces the old one in the index
    customer_services.update_contact(
        actor=rep,
        contact=world["zhang"],
        values={"name": "张伟强"},
        channels=[{"kind": "phone", "value": "13700001111"}],
    )
    assert titles(rep, "5678") == []
    assert titles(rep, "1111") == [("customers.contact", "张伟强")]
    assert titles(rep, "zwq") == [("customers.contact", "张伟强")]

    # reassigning moves the entry to the new owner's scope
    customer_services.assign(actor=role_users["manager"], obj=world["zhang"], owner=role_users["rep_south"])
    assert titles(rep, "张伟强") == []
    assert titles(role_users["rep_south"], "张伟强") == [("customers.contact", "张伟强")]

    contact = Contact.objects.get(pk=world["zhang"].pk)
    customer_services.delete_contact(actor=role_users["admin"], contact=contact)
    assert not SearchEntry.objects.filter(content_type__model="contact", object_id=contact.pk).exists()
    assert titles(role_users["admin"], "张伟强") == []

    latin = Contact.objects.get(pk=world["latin"].pk)
    customer_services.delete_contact(actor=role_users["admin"], contact=latin)
    yunfan = Customer.objects.get(pk=world["yunfan"].pk)
    customer_services.delete_customer(actor=role_users["admin"], customer=yunfan)
    assert titles(role_users["admin"], "海曙") == []


def test_index_and_query_make_the_same_tokens(db: Any) -> None:
    tokens = search.text_tokens("张伟")
    assert {"张", "伟", "张伟", "zhang", "wei", "zhangwei", "zw"} <= tokens
    assert search.text_tokens("張偉") == tokens
    assert search.phone_tokens("+8613812345678") >= {"n8613812345678", "n13812345678", "p5678"}
    assert search.email_tokens("Zhang.Wei@YunFan.com") >= {"zhang", "wei", "zhangwei", "yunfan", "com"}
    assert search.matches(search.parse("zw"), tokens)
    assert not search.matches(search.parse("欧阳锋"), tokens)
