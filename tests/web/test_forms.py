"""Create and edit forms: bad input gets a message next to the field and saves nothing; markup typed into a
name is shown as text on every page that shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core.models import CustomFieldDefinition, Event
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead, snapshot, text

pytestmark = pytest.mark.django_db


def field_error(html: str, message: str) -> bool:
    """The message is rendered as an invalid-feedback block (the one placed right under its field)."""
    return re.search(r'class="invalid-feedback">[^<]*' + re.escape(message), html) is not None


def contact_post(**extra: Any) -> dict[str, Any]:
    data = {"name": "张伟", "ch-kind": ["email"], "ch-value": [""], "ch-label": [""]}
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("email", "zhangwei@", "not a valid e-mail address"),
        ("email", "not an email", "not a valid e-mail address"),
        ("phone", "12ab", "phone"),
        ("phone", "123", "phone"),
    ],
)
def test_contact_channel_errors_save_nothing(
    kind: str, value: str, message: str, users: dict[str, User], login: Callable[[str], Client]
) -> None:
    customer = make_customer(users["rep"], "渠道公司")
    before = snapshot()
    response = login("rep").post(
        "/contacts/new/",
        contact_post(**{"customer": customer.pk, "ch-kind": [kind], "ch-value": [value], "ch-label": ["work"]}),
    )
    assert response.status_code == 200
    html = text(response)
    feedback = re.findall(r'class="invalid-feedback">([^<]*)<', html)
    assert feedback, html
    assert any(message.lower() in f.lower() for f in feedback), feedback
    # the error sits in the channel row that holds the bad value, and the value is kept for correction
    pattern = (
        r'name="ch-value" value="'
        + re.escape(value)
        + r'" class="form-control is-invalid"[^>]*>\s*<div class="invalid-feedback">'
    )
    assert re.search(pattern, html), html
    assert snapshot() == before


def test_contact_edit_with_bad_phone_keeps_old_channels(users: dict[str, User], login: Callable[[str], Client]) -> None:
    contact = make_contact(users["rep"], "王芳", channels=[{"kind": "phone", "value": "13812345678"}])
    before = snapshot()
    response = login("rep").post(
        f"/contacts/{contact.pk}/edit/",
        contact_post(name="王芳芳", version=contact.version, **{"ch-kind": ["phone"], "ch-value": ["abc"]}),
    )
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    contact.refresh_from_db()
    assert contact.name == "王芳" and [c.value for c in contact.channels.all()] == ["13812345678"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/customers/new/", {"kind": "company", "name": "", "lifecycle_stage": "new"}),
        ("/contacts/new/", contact_post(name="")),
        ("/leads/new/", {"name": "", "company": "某公司"}),
    ],
)
def test_missing_name_is_refused(url: str, data: dict, users: dict[str, User], login: Callable[[str], Client]) -> None:
    before = snapshot()
    response = login("rep").post(url, data)
    assert response.status_code == 200
    assert field_error(text(response), "This field is required.")
    assert snapshot() == before


def test_lead_with_bad_email_or_phone_is_refused(users: dict[str, User], login: Callable[[str], Client]) -> None:
    before = snapshot()
    client = login("rep")
    response = client.post("/leads/new/", {"name": "李雷", "email": "lilei@@example"})
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    response = client.post("/leads/new/", {"name": "李雷", "phone": "12ab"})
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    # every mistake is named in the same round: the missing name and the bad phone together
    response = client.post("/leads/new/", {"name": "", "phone": "abc", "email": "x@@y"})
    page = text(response)
    assert field_error(page, "This field is required.")
    assert "“abc” is not a valid phone number." in page
    assert "“x@@y” is not a valid e-mail address." in page
    assert snapshot() == before


@pytest.mark.parametrize(
    ("url", "object_type"),
    [("/customers/new/", "customers.customer"), ("/contacts/new/", "customers.contact"), ("/leads/new/", "sales.lead")],
)
def test_wrong_type_in_custom_field(
    url: str, object_type: str, users: dict[str, User], login: Callable[[str], Client]
) -> None:
    CustomFieldDefinition.objects.create(
        object_type=object_type, name="employees", label_en="Employees", label_zh="员工数", type="integer"
    )
    CustomFieldDefinition.objects.create(
        object_type=object_type, name="founded", label_en="Founded", label_zh="成立日期", type="date"
    )
    data: dict[str, Any] = {"kind": "company", "name": "类型公司", "lifecycle_stage": "new"}
    if object_type == "customers.contact":
        data = contact_post()
    client = login("rep")
    before = snapshot()
    response = client.post(url, {**data, "cf_employees": "很多"})
    assert field_error(text(response), "Enter a whole number.")
    response = client.post(url, {**data, "cf_founded": "2024-13-45"})
    assert field_error(text(response), "Enter a valid date.")
    assert snapshot() == before
    response = client.post(url, {**data, "cf_employees": "120", "cf_founded": "2024-03-01"})
    assert response.status_code == 302
    model = {"customers.customer": Customer, "customers.contact": Contact, "sales.lead": Lead}[object_type]
    assert model.objects.get().custom == {"employees": 120, "founded": "2024-03-01"}


def test_invalid_uscc_is_refused(users: dict[str, User], login: Callable[[str], Client]) -> None:
    before = snapshot()
    response = login("rep").post(
        "/customers/new/",
        {"kind": "company", "name": "信用代码公司", "lifecycle_stage": "new", "uscc": "91330100MA27XXXX1X"},
    )
    assert response.status_code == 200
    assert field_error(text(response), "is not a valid unified social credit code")
    assert snapshot() == before


def test_duplicate_uscc_names_the_field(users: dict[str, User], login: Callable[[str], Client]) -> None:
    make_customer(users["rep"], "先到公司", uscc="91110000600037341L")
    before = snapshot()
    response = login("rep").post(
        "/customers/new/",
        {"kind": "company", "name": "后到公司", "lifecycle_stage": "new", "uscc": "91110000600037341L"},
    )
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["customer", "contact", "lead"])
def test_stale_edit_is_refused(kind: str, users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    client = login("rep")
    if kind == "customer":
        obj: Any = make_customer(rep, "原名公司")
        url, data = f"/customers/{obj.pk}/edit/", {"kind": "company", "name": "我的改名", "lifecycle_stage": "prospect"}
    elif kind == "contact":
        obj = make_contact(rep, "原名")
        url, data = f"/contacts/{obj.pk}/edit/", contact_post(name="我的改名")
    else:
        obj = make_lead(rep, "原名")
        url, data = f"/leads/{obj.pk}/edit/", {"name": "我的改名"}
    old_version = client.get(url).context["form"]["version"].value()
    assert int(old_version) == obj.version
    # someone else saves first
    other = login("manager")
    if kind == "customer":
        customer_services.update_customer(actor=users["manager"], customer=obj, values={"city": "杭州"})
    else:
        page = other.get(url).context["form"]
        assert page  # the manager may edit it too
        other_data = dict(data, name="经理的改名", version=obj.version)
        assert other.post(url, other_data).status_code == 302
    obj.refresh_from_db()
    before = snapshot()
    version = obj.version
    response = client.post(url, {**data, "version": old_version})
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it." in text(response)
    obj.refresh_from_db()
    assert obj.name != "我的改名" and obj.version == version
    assert snapshot() == before


XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_markup_in_names_is_shown_as_text(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    client = login("rep")
    response = client.post("/customers/new/", {"kind": "company", "name": XSS + " 公司", "lifecycle_stage": "new"})
    assert response.status_code == 302
    customer = Customer.objects.get()
    contact = make_contact(rep, XSS, customer, title=XSS)
    lead = make_lead(rep, XSS, company=XSS)
    customer_services.update_customer(actor=rep, customer=customer, values={"description": XSS, "city": XSS})
    pages = [
        "/customers/",
        "/customers/?cols=name,city,tags",
        "/contacts/",
        "/leads/",
        f"/customers/{customer.pk}/",  # profile, contact list and timeline (the contact's events by name)
        f"/contacts/{contact.pk}/",
        f"/leads/{lead.pk}/",
        f"/customers/{customer.pk}/edit/",
        "/search/?q=alert",
        "/search/?q=alert&partial=1",
        "/",
    ]
    for url in pages:
        html = text(client.get(url))
        assert XSS not in html, url
        assert ESCAPED in html, url
    assert Event.objects.filter(object_repr__contains="<script>").exists()  # stored as typed, escaped when shown
