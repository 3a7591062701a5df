"""Global search: Chinese names (simplified and traditional), pinyin and initials, phone digits, e-mail
fragments, long Latin names, zero hits and very common tokens — through the gate, identical on SQLite and
PostgreSQL (CI runs this module on both), and kept in step with the records."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

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


# --------------------------------------------------------------------------- the line under a hit


@pytest.fixture
def hongyun(role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any) -> dict:
    rep = role_users["rep"]
    with translation.override("zh-hans"):  # saved by someone using the Chinese UI
        customer = customer_factory(owner=rep, name="宏运物流有限公司", city="嘉兴", province="浙江")
        contact = contact_factory(owner=rep, customer=customer, name="宏运小王")
        lead = lead_factory(owner=rep, name="宏运老李", company="宏运物流")
    return {"customer": customer, "contact": contact, "lead": lead}


def _reader(superuser: User, user_factory: Any, team_tree: Any, hidden: dict[str, dict], language: str) -> User:
    """A user who sees every customer, contact and lead, with the given fields hidden."""
    role = user_services.save_role(
        actor=superuser,
        role=None,
        data={"code": f"hides_{language}", "name_en": "Hides fields", "name_zh": "隐藏字段"},
        grants={
            key: (["view"], "all", hidden.get(key, {}))
            for key in ("customers.customer", "customers.contact", "sales.lead")
        },
    )
    reader = user_factory(username=f"reader_{language}", team=team_tree["hq"], language=language)
    user_services.update_user(actor=superuser, user=reader, values={}, roles=[role])
    return User.objects.get(pk=reader.pk)


def subtitles(user: User, q: str, language: str) -> dict[str, str]:
    with translation.override(language):
        return {h.object_type.key: h.subtitle for h in search.search(user, q)}


def test_subtitle_leaves_out_fields_hidden_from_the_viewer(
    hongyun: dict, role_users: dict[str, User], superuser: User, user_factory: Any, team_tree: Any
) -> None:
    hidden = {"customers.customer": {"city": "hidden"}, "customers.contact": {"customer": "hidden"}}
    reader = _reader(superuser, user_factory, team_tree, hidden, "en")
    assert subtitles(reader, "宏运", "en") == {
        "customers.customer": "Customer · 浙江",
        "customers.contact": "Contact",
        "sales.lead": "Lead · 宏运物流",
    }
    # the rep may read every field and sees all of them
    assert subtitles(role_users["rep"], "宏运", "en") == {
        "customers.customer": "Customer · 嘉兴 · 浙江",
        "customers.contact": "Contact · 宏运物流有限公司",
        "sales.lead": "Lead · 宏运物流",
    }


def test_subtitle_is_in_the_viewers_language(hongyun: dict, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    assert subtitles(rep, "宏运", "zh-hans") == {
        "customers.customer": "客户 · 嘉兴 · 浙江",
        "customers.contact": "联系人 · 宏运物流有限公司",
        "sales.lead": "线索 · 宏运物流",
    }
    assert subtitles(rep, "宏运", "en")["customers.customer"] == "Customer · 嘉兴 · 浙江"
    # what is stored is data, not text in the language of whoever saved the record
    stored = SearchEntry.objects.get(content_type__model="customer", object_id=hongyun["customer"].pk).subtitle
    assert search.unpack_parts(stored) == [("city", "嘉兴"), ("province", "浙江")]
    assert "客户" not in stored and "Customer" not in stored


@pytest.mark.parametrize("partial", [False, True])
def test_search_page_and_palette_show_the_viewers_subtitle(
    partial: bool, hongyun: dict, superuser: User, user_factory: Any, team_tree: Any
) -> None:
    hidden = {"customers.customer": {"city": "hidden"}}
    for language, expected in (
        ("en", ["Customer · 浙江", "Lead · 宏运物流"]),
        ("zh-hans", ["客户 · 浙江", "线索 · 宏运物流"]),
    ):
        client = Client()
        client.force_login(_reader(superuser, user_factory, team_tree, hidden, language))
        html = client.get("/search/", {"q": "宏运", **({"partial": "1"} if partial else {})}).content.decode()
        for subtitle in expected:
            assert f"<small>{subtitle}</small>" in html
        assert "嘉兴" not in html
        assert ("Lead ·" in html) == (language == "en")


def test_entries_written_before_parts_show_only_their_type_until_reindexed(
    hongyun: dict, role_users: dict[str, User]
) -> None:
    rep = role_users["rep"]
    entries = SearchEntry.objects.filter(object_id__in=[o.pk for o in hongyun.values()])
    # an entry as the bulk path used to write it: finished text, a fixed language, no name key
    customer_entry = entries.get(content_type__model="customer")
    old_document = " ".join(t for t in customer_entry.document.split() if not t.startswith(search.NAME_KEY_MARK))
    entries.update(subtitle="客户 · 嘉兴 · 浙江")
    SearchEntry.objects.filter(pk=customer_entry.pk).update(document=old_document)
    assert subtitles(rep, "宏运", "en")["customers.customer"] == "Customer"
    assert search.same_name("customers.customer", "宏运物流有限公司") == []

    ids = {(m, o): i for m, o, i in entries.values_list("content_type__model", "object_id", "id")}
    SearchEntry.objects.filter(content_type__model="lead").delete()  # a record that lost its entry gets one

    out = io.StringIO()
    call_command("search_reindex", stdout=out)
    assert "Indexed" in out.getvalue()
    # entries are rewritten in place: same ids, so the newest-first order of hits does not change
    kept = {(m, o): i for m, o, i in entries.values_list("content_type__model", "object_id", "id")}
    assert kept[("customer", hongyun["customer"].pk)] == ids[("customer", hongyun["customer"].pk)]
    assert kept[("contact", hongyun["contact"].pk)] == ids[("contact", hongyun["contact"].pk)]
    assert subtitles(rep, "宏运", "en")["customers.customer"] == "Customer · 嘉兴 · 浙江"
    assert search.same_name("customers.customer", "宏运物流（有限公司）") == [hongyun["customer"].pk]
    assert sorted(titles(rep, "宏运")) == [
        ("customers.contact", "宏运小王"),
        ("customers.customer", "宏运物流有限公司"),
        ("sales.lead", "宏运老李"),
    ]


def test_building_subtitles_adds_no_query_per_hit(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    for i in range(12):
        customer_factory(owner=rep, name=f"顺达{i}号物流", city="宁波", province="浙江")
    customer_factory(owner=rep, name="独一家餐饮", city="宁波")
    search.search(rep, "独一家")  # the user's roles are read once per request
    with CaptureQueriesContext(connection) as one:
        assert len(search.search(rep, "独一家")) == 1
    with CaptureQueriesContext(connection) as many:
        hits = search.search(rep, "顺达")
        assert [h.subtitle for h in hits] == ["Customer · 宁波 · 浙江"] * 12
    assert len(many) == len(one)


def test_stored_parts_fit_the_column() -> None:
    stored = search.pack_parts([("customer", "长" * 400), ("city", "上海"), ("province", "")])
    assert len(stored) <= search.SUBTITLE_MAX
    parts = search.unpack_parts(stored)
    assert parts[1] == ("city", "上海") and len(parts) == 2
    assert parts[0][0] == "customer" and parts[0][1].endswith("…")
    assert search.unpack_parts('[["city","a \\"quoted\\" 城"]]') == [("city", 'a "quoted" 城')]
    assert search.unpack_parts("Customer · 上海") == [] and search.unpack_parts("[broken") == []


def test_name_key_folds_width_case_script_spacing_and_punctuation() -> None:
    key = search.name_key("捷辰交通建设（嘉兴）有限公司")
    assert key == "捷辰交通建设嘉兴有限公司"
    for variant in (
        "捷辰交通建设(嘉兴)有限公司",
        "捷辰交通建設（嘉興）有限公司",
        " 捷辰交通建设 嘉兴 有限公司",
        "捷辰交通建设·嘉兴·有限公司",
    ):
        assert search.name_key(variant) == key
    assert search.name_key("ＡＣＭＥ Trading Co., Ltd.") == search.name_key("acme trading co ltd") == "acmetradingcoltd"
    assert search.name_key("捷辰交通建设(杭州)有限公司") != key
    assert search.name_key(" ()·,") == "" and search.name_key_tokens("()") == set()
    # the key's token never answers a typed query
    assert not search.matches(search.parse("acme"), search.name_key_tokens("ACME"))
