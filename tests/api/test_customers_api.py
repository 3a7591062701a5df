"""Customers through /api/v1/customers/: CRUD via services, the gate on rows and fields, filters, order."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core import customfields
from kehu.core.models import Event
from kehu.customers.models import Customer, LifecycleChange
from tests.api.conftest import finance_customer, make_customer

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"
FINANCE = ("credit_limit", "payment_terms", "bank_account")


def test_list_detail_create_update_delete(users: Any, admin_api: Any) -> None:
    r = admin_api.post(URL, {"name": "北京星辰科技有限公司", "kind": "company", "city": "北京", "tags": ["VIP"]})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["tags"] == ["VIP"] and body["owner"] == users["admin"].pk and body["version"] == 1
    pk = body["id"]
    assert Event.objects.filter(verb="created", object_id=pk, actor=users["admin"]).exists()

    listing = admin_api.get(URL).json()
    assert [c["id"] for c in listing["results"]] == [pk] and listing["next"] is None
    assert admin_api.get(f"{URL}{pk}/").json()["city"] == "北京"

    r = admin_api.patch(f"{URL}{pk}/", {"city": "天津", "tags": ["VIP", "重点客户"]})
    assert r.status_code == 200, r.json()
    assert r.json()["city"] == "天津" and r.json()["tags"] == ["VIP", "重点客户"] and r.json()["version"] == 2

    full = {k: v for k, v in r.json().items() if k not in ("id", "version", "created_at", "updated_at")}
    full["name"] = "北京星辰"
    r = admin_api.put(f"{URL}{pk}/", full)
    assert r.status_code == 200, r.json()
    assert Customer.objects.get(pk=pk).name == "北京星辰"

    assert admin_api.delete(f"{URL}{pk}/").status_code == 204
    assert not Customer.objects.filter(pk=pk).exists()
    assert Event.objects.filter(verb="deleted", object_id=pk).exists()


def test_stage_change_goes_through_change_stage(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    r = rep_api.patch(f"{URL}{customer.pk}/", {"lifecycle_stage": "retained"})
    assert r.status_code == 200, r.json()
    assert r.json()["lifecycle_stage"] == "retained"
    assert LifecycleChange.objects.filter(customer=customer, from_stage="prospect", to_stage="retained").exists()
    assert Event.objects.filter(object_id=customer.pk, verb="stage_changed").exists()
    r = rep_api.patch(f"{URL}{customer.pk}/", {"lifecycle_stage": "nonsense"})
    assert r.status_code == 400 and "lifecycle_stage" in r.json()["errors"]


def test_bad_input_names_the_field_and_saves_nothing(admin_api: Any) -> None:
    r = admin_api.post(URL, {"name": "", "website": "not a url"})
    assert r.status_code == 400
    assert {"name", "website"} <= set(r.json()["errors"])
    r = admin_api.post(URL, {"name": "Acme", "uscc": "123"})
    assert r.status_code == 400 and "uscc" in r.json()["errors"]
    assert not Customer.objects.exists()


def test_unknown_body_field_is_refused(admin_api: Any) -> None:
    r = admin_api.post(URL, {"name": "Acme", "colour": "red"})
    assert r.status_code == 400
    assert r.json()["errors"] == {"colour": ["Unknown field."]}
    assert not Customer.objects.exists()


def test_rep_sees_only_own_and_others_are_404(users: Any, rep_api: Any) -> None:
    mine = make_customer(users["rep"], name="我的客户")
    theirs = make_customer(users["rep2"], name="别人的客户")
    assert [c["id"] for c in rep_api.get(URL).json()["results"]] == [mine.pk]
    assert rep_api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert rep_api.patch(f"{URL}{theirs.pk}/", {"city": "x"}).status_code == 404
    assert rep_api.put(f"{URL}{theirs.pk}/", {"name": "x"}).status_code == 404
    assert rep_api.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert rep_api.post(f"{URL}{theirs.pk}/assign/", {"owner": users["rep"].pk}).status_code == 404
    assert rep_api.get(f"{URL}?id={theirs.pk}").status_code == 400  # id is no filter; nothing leaks either way
    theirs.refresh_from_db()
    assert theirs.name == "别人的客户" and theirs.owner == users["rep2"]


def test_manager_sees_sub_teams(users: Any, client_for: Any) -> None:
    east = make_customer(users["rep"], name="East")
    north = make_customer(users["rep2"], name="North")
    other = make_customer(users["admin"], name="HQ")
    ids = {c["id"] for c in client_for("manager").get(URL).json()["results"]}
    assert ids == {east.pk, north.pk}
    assert client_for("manager").get(f"{URL}{other.pk}/").status_code == 404


def test_visible_record_without_permission_is_403(users: Any, rep_api: Any) -> None:
    mine = make_customer(users["rep"])
    r = rep_api.delete(f"{URL}{mine.pk}/")  # sales reps may not delete
    assert r.status_code == 403 and "__all__" in r.json()["errors"]
    assert rep_api.post(f"{URL}{mine.pk}/assign/", {"owner": users["rep2"].pk}).status_code == 403
    assert Customer.objects.filter(pk=mine.pk, owner=users["rep"]).exists()


def test_finance_fields_are_absent_for_sales_rep(users: Any, rep_api: Any, client_for: Any) -> None:
    customer = finance_customer(users)
    listed = rep_api.get(URL).json()["results"][0]
    detail = rep_api.get(f"{URL}{customer.pk}/").json()
    for body in (listed, detail):
        assert not set(FINANCE) & set(body)
        assert "50000" not in str(body)
    assert client_for("finance").get(f"{URL}{customer.pk}/").json()["credit_limit"] == "50000.00"


def test_hidden_fields_cannot_be_filtered_ordered_or_written(users: Any, rep_api: Any, client_for: Any) -> None:
    customer = finance_customer(users)
    for query in ("credit_limit=50000", "credit_limit__in=1,2", "payment_terms=30%20days", "bank_account=6222"):
        r = rep_api.get(f"{URL}?{query}")
        assert r.status_code == 400, query
        assert list(r.json()["errors"]) == [query.split("=")[0]]
    r = rep_api.get(f"{URL}?ordering=-payment_terms")
    assert r.status_code == 400 and "ordering" in r.json()["errors"]
    r = rep_api.patch(f"{URL}{customer.pk}/", {"credit_limit": "1"})
    assert r.status_code == 400 and "credit_limit" in r.json()["errors"]
    # finance may do all three
    fin = client_for("finance")
    assert [c["id"] for c in fin.get(f"{URL}?credit_limit=50000").json()["results"]] == [customer.pk]
    assert fin.get(f"{URL}?ordering=-payment_terms").status_code == 200


def test_readonly_field_write_is_400(users: Any, client_for: Any) -> None:
    customer = make_customer(users["rep"], name="原名")
    r = client_for("finance").patch(f"{URL}{customer.pk}/", {"name": "新名"})
    assert r.status_code == 400 and "name" in r.json()["errors"]
    customer.refresh_from_db()
    assert customer.name == "原名"


def test_filters_search_and_order(users: Any, rep_api: Any) -> None:
    a = make_customer(users["rep"], name="张伟贸易", lifecycle_stage="new", city="上海")
    b = make_customer(users["rep"], name="Lotus Foods", lifecycle_stage="retained", city="Shenzhen")
    c = make_customer(users["rep"], name="Acme", lifecycle_stage="lost")

    def ids(query: str) -> list[int]:
        r = rep_api.get(f"{URL}?{query}")
        assert r.status_code == 200, r.json()
        return [x["id"] for x in r.json()["results"]]

    assert ids("lifecycle_stage=new") == [a.pk]
    assert set(ids("lifecycle_stage__in=new,retained")) == {a.pk, b.pk}
    assert ids("q=zhangwei") == [a.pk]
    assert ids("q=lotus") == [b.pk]
    assert ids("owner=me&ordering=name") == [c.pk, b.pk, a.pk]
    assert ids("ordering=-name") == [a.pk, b.pk, c.pk]
    assert rep_api.get(f"{URL}?lifecycle_stage=bogus").status_code == 400
    assert rep_api.get(f"{URL}?nonsense=1").json()["errors"] == {"nonsense": ["Unknown query parameter."]}
    assert rep_api.get(f"{URL}?ordering=description").status_code == 400


def test_tag_filter_by_name(users: Any, rep_api: Any) -> None:
    tagged = rep_api.post(URL, {"name": "T1", "tags": ["VIP"]}).json()["id"]
    rep_api.post(URL, {"name": "T2"})
    assert [c["id"] for c in rep_api.get(f"{URL}?tags=VIP").json()["results"]] == [tagged]


def test_cursor_pagination(users: Any, rep_api: Any) -> None:
    made = [make_customer(users["rep"], name=f"客户{i:02d}").pk for i in range(7)]
    seen: list[int] = []
    url = f"{URL}?page_size=3&ordering=name"
    while url:
        body = rep_api.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert seen == made
    assert rep_api.get(f"{URL}?cursor=forged").status_code == 400
    assert rep_api.get(f"{URL}?page_size=0").status_code == 400


def test_custom_fields_nested_and_gated(users: Any, root: Any, admin_api: Any, rep_api: Any) -> None:
    customfields.save_definition(
        actor=root,
        defn=None,
        data={
            "object_type": "customers.customer",
            "name": "erp_code",
            "label_en": "ERP",
            "label_zh": "ERP",
            "type": "text",
        },
    )
    customfields.save_definition(
        actor=root,
        defn=None,
        data={
            "object_type": "customers.customer",
            "name": "seats",
            "label_en": "Seats",
            "label_zh": "席位",
            "type": "integer",
        },
    )
    r = rep_api.post(URL, {"name": "Acme", "custom": {"erp_code": "E-1", "seats": "12"}})
    assert r.status_code == 201, r.json()
    assert r.json()["custom"] == {"erp_code": "E-1", "seats": 12}
    pk = r.json()["id"]
    assert rep_api.get(f"{URL}?cf_seats=12").json()["results"][0]["id"] == pk
    r = rep_api.patch(f"{URL}{pk}/", {"custom": {"seats": "many"}})
    assert r.status_code == 400 and "cf_seats" in r.json()["errors"]
    r = rep_api.patch(f"{URL}{pk}/", {"custom": {"nope": 1}})
    assert r.status_code == 400 and "cf_nope" in r.json()["errors"]

    # hide cf_erp_code from sales reps: absent from JSON, not filterable, not writable
    from kehu.users.models import Role, RolePermission

    perm = RolePermission.objects.get(role=Role.objects.get(code="sales_rep"), object_type="customers.customer")
    rules = {**perm.field_rules, "cf_erp_code": "hidden"}
    RolePermission.objects.filter(pk=perm.pk).update(field_rules=rules)
    assert rep_api.get(f"{URL}{pk}/").json()["custom"] == {"seats": 12}
    assert rep_api.get(f"{URL}?cf_erp_code=E-1").status_code == 400
    r = rep_api.patch(f"{URL}{pk}/", {"custom": {"erp_code": "E-2"}})
    assert r.status_code == 400 and "cf_erp_code" in r.json()["errors"]
    assert admin_api.get(f"{URL}{pk}/").json()["custom"]["erp_code"] == "E-1"


def test_assign(users: Any, client_for: Any) -> None:
    customer = make_customer(users["rep"])
    r = client_for("manager").post(f"{URL}{customer.pk}/assign/", {"owner": users["rep2"].pk})
    assert r.status_code == 200, r.json()
    assert r.json()["owner"] == users["rep2"].pk and r.json()["team"] == users["rep2"].team_id
    assert client_for("rep").get(f"{URL}{customer.pk}/").status_code == 404
    r = client_for("manager").post(f"{URL}{customer.pk}/assign/", {"owner": 99999})
    assert r.status_code == 400 and "owner" in r.json()["errors"]


def test_list_query_count_is_fixed(users: Any, rep_api: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(50):
        make_customer(users["rep"], name=f"客户{i}")
    rep_api.post(URL, {"name": "tagged", "tags": ["a", "b"]})
    with django_assert_max_num_queries(12):
        r = rep_api.get(f"{URL}?page_size=51")
    assert r.status_code == 200 and len(r.json()["results"]) == 51


def test_ordering_by_name_is_in_pinyin_order_over_pages(users: Any, rep_api: Any) -> None:
    for name in ("苏州新材料", "Acme", "杭州未来科技", "nanjing port", "宁波海港"):
        make_customer(users["rep"], name=name)
    seen: list[str] = []
    url = f"{URL}?page_size=2&ordering=name"
    while url:
        body = rep_api.get(url).json()
        seen += [c["name"] for c in body["results"]]
        url = body["next"]
    assert seen == ["Acme", "杭州未来科技", "nanjing port", "宁波海港", "苏州新材料"]
    assert "name_sort" not in rep_api.get(URL).json()["results"][0]  # the key is not part of the record
