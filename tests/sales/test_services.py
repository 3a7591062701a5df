"""Lead services (S1): capture, qualify, disqualify with a pick-list reason, duplicates among visible records,
and conversion into customer + contact that keeps the lead's history."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core import permissions
from kehu.core.models import Event
from kehu.customers.models import Contact, Customer
from kehu.sales import services
from kehu.sales.models import Lead
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def lead_events(lead: Lead) -> list[str]:
    return list(
        Event.objects.filter(content_type__model="lead", object_id=lead.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_create_lead_normalises_email_and_phone(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    lead = services.create_lead(
        actor=rep,
        data={"name": "黄磊", "company": "成都蓉城软件", "email": "Huang.Lei@RongCheng.CN", "phone": "139 1111 2222"},
    )
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.email, lead.phone) == ("huang.lei@rongcheng.cn", "+8613911112222")
    assert (lead.owner, lead.team, lead.status) == (rep, rep.team, "new")
    assert lead.assigned_at is not None


def test_create_lead_with_bad_contact_data_saves_nothing(role_users: dict[str, User]) -> None:
    before = (Lead.objects.count(), Event.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.create_lead(actor=role_users["rep"], data={"name": "x", "email": "nope", "phone": "123"})
    assert set(exc.value.message_dict) == {"email", "phone"}
    assert (Lead.objects.count(), Event.objects.count()) == before


def test_service_agent_cannot_create_leads(role_users: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied):
        services.create_lead(actor=role_users["agent"], data={"name": "客服建的线索"})
    assert not Lead.objects.filter(name="客服建的线索").exists()


def test_update_lead_refuses_fields_with_their_own_action(role_users: dict[str, User], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="杨洋")
    with pytest.raises(ValidationError) as exc:
        services.update_lead(actor=rep, lead=lead, values={"status": "qualified", "title": "CTO"})
    assert "status" in exc.value.message_dict
    assert Lead.objects.get(pk=lead.pk).status == "new"
    services.update_lead(actor=rep, lead=lead, values={"title": "CTO"})
    assert Lead.objects.get(pk=lead.pk).title == "CTO"


def test_qualify_and_disqualify(role_users: dict[str, User], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="何静")
    for reason in ("", "bored", "No budget"):  # missing, unknown, a label instead of the value
        with pytest.raises(ValidationError) as exc:
            services.disqualify(actor=rep, lead=lead, reason=reason)
        assert "reason" in exc.value.message_dict  # the request field
        assert Lead.objects.get(pk=lead.pk).status == "new"

    services.disqualify(actor=rep, lead=lead, reason="no_budget", note="明年再联系")
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.disqualify_reason, lead.disqualify_note) == ("disqualified", "no_budget", "明年再联系")
    event = Event.objects.filter(content_type__model="lead", object_id=lead.pk).latest("id")
    assert event.verb == "disqualified" and event.data == {"reason": "no_budget"}
    assert event.changes["status"] == ["new", "disqualified"]

    services.qualify(actor=rep, lead=lead)
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.disqualify_reason) == ("qualified", "")
    assert lead_events(lead) == ["created", "disqualified", "qualified"]


def test_inactive_picklist_reason_is_refused(role_users: dict[str, User], lead_factory: Any) -> None:
    from kehu.core.models import PicklistOption

    PicklistOption.objects.filter(list="disqualify_reason", value="spam").update(active=False)
    lead = lead_factory(owner=role_users["rep"], name="垃圾")
    with pytest.raises(ValidationError):
        services.disqualify(actor=role_users["rep"], lead=lead, reason="spam")


def test_find_duplicates_only_among_visible_records(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any
) -> None:
    rep, south, manager = role_users["rep"], role_users["rep_south"], role_users["manager"]
    mine = customer_factory(owner=rep, name="无锡华光")
    mine_contact = contact_factory(
        owner=rep, customer=mine, name="林峰", channels=[{"kind": "email", "value": "lin.feng@huaguang.cn"}]
    )
    theirs = customer_factory(owner=south, name="厦门海韵")
    their_contact = contact_factory(
        owner=south, customer=theirs, name="林峰", channels=[{"kind": "phone", "value": "13755556666"}]
    )
    lead = lead_factory(
        owner=rep, name="林峰", company="厦门海韵", email="LIN.FENG@huaguang.cn", phone="+86 137 5555 6666"
    )
    dup = services.find_duplicates(rep, lead)
    assert dup.contacts == [mine_contact]
    assert dup.customers == [mine]  # 厦门海韵 exists, but in 华南区: not revealed to this rep

    dup = services.find_duplicates(manager, lead)
    assert set(dup.contacts) == {mine_contact, their_contact}
    assert set(dup.customers) == {mine, theirs}

    clean = lead_factory(owner=rep, name="新人", company="不存在的公司", email="new@example.com")
    assert not services.find_duplicates(rep, clean)


@pytest.mark.parametrize(
    "company",
    [
        "捷辰交通建设(嘉兴)有限公司",  # half-width brackets
        "捷辰交通建设（嘉兴）有限公司",  # exactly as stored
        "捷辰交通建設（嘉興）有限公司",  # traditional characters
        " 捷辰交通建设 嘉兴 有限公司 ",  # spaces instead of brackets
        "捷辰交通建设·嘉兴·有限公司",  # other punctuation
    ],
)
def test_company_duplicate_found_however_the_name_is_spelt(
    company: str, role_users: dict[str, User], customer_factory: Any, lead_factory: Any
) -> None:
    rep = role_users["rep"]
    existing = customer_factory(owner=rep, name="捷辰交通建设（嘉兴）有限公司")
    customer_factory(owner=rep, name="捷辰交通建设（杭州）有限公司")  # same group, another company
    lead = lead_factory(owner=rep, name="周航", company=company)
    assert services.find_duplicates(rep, lead).customers == [existing]


def test_company_duplicates_in_latin_script_and_with_email_and_phone(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any
) -> None:
    rep, south = role_users["rep"], role_users["rep_south"]
    acme = customer_factory(owner=rep, name="ACME Trading Co., Ltd.")
    customer_factory(owner=south, name="Acme Trading Co Ltd")  # the same name in another team: not revealed
    other = customer_factory(owner=rep, name="北京远望科技")
    by_mail = contact_factory(
        owner=rep, customer=other, name="钱多", channels=[{"kind": "email", "value": "qian@yw.cn"}]
    )
    by_phone = contact_factory(owner=rep, name="孙少", channels=[{"kind": "phone", "value": "13900001234"}])
    lead = lead_factory(
        owner=rep, name="钱多", company="ＡＣＭＥ trading co ltd", email="QIAN@yw.cn", phone="139 0000 1234"
    )
    dup = services.find_duplicates(rep, lead)
    assert set(dup.contacts) == {by_mail, by_phone}
    assert set(dup.customers) == {acme, other}  # by name, and the company of the contact found by e-mail
    assert len(services.find_duplicates(role_users["manager"], lead).customers) == 3
    # a renamed customer is found under its new name only
    from kehu.customers import services as customer_services

    customer_services.update_customer(actor=rep, customer=acme, values={"name": "Acme Holdings"})
    assert acme not in services.find_duplicates(rep, lead).customers
    lead2 = lead_factory(owner=rep, name="赵四", company="ACME holdings")
    assert services.find_duplicates(rep, lead2).customers == [acme]


def test_convert_creates_customer_and_contact_and_keeps_history(role_users: dict[str, User], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(
        owner=rep,
        name="宋佳",
        company="青岛蓝海渔业",
        title="采购经理",
        email="song.jia@lanhai.cn",
        phone="13612345678",
        wechat="songjia_qd",
        source="trade_show",
        city="青岛",
    )
    services.qualify(actor=rep, lead=lead)
    customer, contact, _opp = services.convert(actor=rep, lead=lead)

    assert (customer.name, customer.kind, customer.source, customer.city) == (
        "青岛蓝海渔业",
        "company",
        "trade_show",
        "青岛",
    )
    assert customer.lifecycle_stage == "new" and customer.owner == rep
    assert (contact.name, contact.title, contact.customer, contact.is_primary) == ("宋佳", "采购经理", customer, True)
    assert {(ch.kind, ch.normalized) for ch in contact.channels.all()} == {
        ("email", "song.jia@lanhai.cn"),
        ("phone", "+8613612345678"),
        ("wechat", "songjia_qd"),
    }
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.converted_customer, lead.converted_contact) == ("converted", customer, contact)
    assert lead.converted_at is not None
    # the lead's history stays, and the conversion shows on the customer's timeline
    assert lead_events(lead) == ["created", "qualified", "converted"]
    converted = Event.objects.get(content_type__model="lead", object_id=lead.pk, verb="converted")
    assert (converted.parent_type.model, converted.parent_id) == ("customer", customer.pk)
    assert converted.data == {"customer": customer.pk, "contact": contact.pk}


def test_convert_an_individual_without_company(role_users: dict[str, User], lead_factory: Any) -> None:
    lead = lead_factory(owner=role_users["rep"], name="个人客户王五")
    customer, contact, _opp = services.convert(actor=role_users["rep"], lead=lead)
    assert (customer.kind, customer.name) == ("individual", "个人客户王五")
    assert contact.channels.count() == 0


def test_convert_attaches_to_an_existing_customer(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any
) -> None:
    rep = role_users["rep"]
    existing = customer_factory(owner=rep, name="无锡华光")
    first = contact_factory(owner=rep, customer=existing, name="林峰")
    lead = lead_factory(owner=rep, name="许晴", company="无锡华光", email="xu.qing@huaguang.cn")
    before = Customer.objects.count()
    customer, contact, _opp = services.convert(actor=rep, lead=lead, customer=existing)
    assert customer == existing and Customer.objects.count() == before
    assert contact.customer == existing and not contact.is_primary
    assert set(existing.contacts.all()) == {first, contact}

    # or to one of its contacts
    lead2 = lead_factory(owner=rep, name="林峰", company="无锡华光")
    contacts_before = Contact.objects.count()
    customer2, contact2, _opp2 = services.convert(actor=rep, lead=lead2, customer=existing, contact=first)
    assert (customer2, contact2) == (existing, first) and Contact.objects.count() == contacts_before


def test_convert_refuses_converted_disqualified_and_invisible_targets(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any, lead_factory: Any
) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="冯远")
    services.convert(actor=rep, lead=lead)
    counts = (Customer.objects.count(), Contact.objects.count(), Event.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.convert(actor=rep, lead=lead)
    assert "status" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.update_lead(actor=rep, lead=Lead.objects.get(pk=lead.pk), values={"title": "改"})

    dq = lead_factory(owner=rep, name="韩梅")
    services.disqualify(actor=rep, lead=dq, reason="no_need")
    counts = (Customer.objects.count(), Contact.objects.count(), Event.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.convert(actor=rep, lead=Lead.objects.get(pk=dq.pk))
    assert "status" in exc.value.message_dict
    assert (Customer.objects.count(), Contact.objects.count(), Event.objects.count()) == counts

    theirs = customer_factory(owner=role_users["rep_south"], name="别人的")
    other_contact = contact_factory(owner=rep, name="不相干")
    ok = lead_factory(owner=rep, name="秦岚")
    with pytest.raises(ValidationError) as exc:
        services.convert(actor=rep, lead=ok, customer=theirs)
    assert "customer" in exc.value.message_dict
    mine = customer_factory(owner=rep, name="我的")
    with pytest.raises(ValidationError) as exc:
        services.convert(actor=rep, lead=ok, customer=mine, contact=other_contact)
    assert "contact" in exc.value.message_dict
    assert Lead.objects.get(pk=ok.pk).status == "new"


def test_convert_needs_change_right_on_the_lead(role_users: dict[str, User], lead_factory: Any) -> None:
    lead = lead_factory(owner=role_users["rep_south"], name="别组线索")
    with pytest.raises(PermissionDenied):
        services.convert(actor=role_users["rep"], lead=lead)
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_assign_lead_moves_it_between_teams(role_users: dict[str, User], lead_factory: Any) -> None:
    rep, south = role_users["rep"], role_users["rep_south"]
    lead = lead_factory(owner=rep, name="分配线索")
    services.assign_lead(actor=role_users["marketing"], lead=lead, owner=south)
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.owner, lead.team) == (south, south.team)
    assert not permissions.visible(Lead, rep).filter(pk=lead.pk).exists()
    assert permissions.visible(Lead, south).filter(pk=lead.pk).exists()
