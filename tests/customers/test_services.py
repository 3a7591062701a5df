"""Customer and contact services: create, update, assign, tags, bulk actions within scope, channels normalised
with errors naming the channel, and the unified social credit code."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.models import Event
from kehu.customers import services
from kehu.customers.models import Contact, ContactChannel, Customer, LifecycleChange, Tag
from kehu.users import services as user_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db

VALID_USCC = "91110000600037341L"
OTHER_USCC = "91310000MA1FL8LQ34"


def counts() -> tuple[int, int, int, int]:
    return Customer.objects.count(), Contact.objects.count(), ContactChannel.objects.count(), Event.objects.count()


def test_create_customer_belongs_to_the_creator_and_their_team(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    c = services.create_customer(actor=rep, data={"name": "宁波港信物流", "kind": "company"})
    assert (c.owner, c.team) == (rep, rep.team)
    assert c.version == 1 and c.lifecycle_stage == "prospect" and c.stage_changed_at is not None
    assert list(LifecycleChange.objects.filter(customer=c).values_list("to_stage", "changed_by")) == [
        ("prospect", rep.pk)
    ]


def test_create_customer_rejects_bad_input_and_saves_nothing(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    before = counts()
    for data, field in [
        ({"name": ""}, "name"),
        ({"name": "x", "kind": "alien"}, "kind"),
        ({"name": "x", "website": "not a url at all"}, "website"),
        ({"name": "x", "uscc": "91110000600037341X"}, "uscc"),
        ({"name": "x", "uscc": "123"}, "uscc"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.create_customer(actor=rep, data=data)
        assert field in exc.value.message_dict, data
    assert counts() == before


def test_uscc_valid_and_unique(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    c = services.create_customer(actor=rep, data={"name": "北京样例", "uscc": VALID_USCC})
    assert Customer.objects.get(pk=c.pk).uscc == VALID_USCC
    with pytest.raises(ValidationError) as exc:
        services.create_customer(actor=rep, data={"name": "另一家", "uscc": VALID_USCC})
    assert "uscc" in exc.value.message_dict
    assert not Customer.objects.filter(name="另一家").exists()
    with pytest.raises(ValidationError) as exc:
        services.update_customer(actor=rep, customer=c, values={"uscc": "91110000600037341X"})
    assert "uscc" in exc.value.message_dict
    services.update_customer(actor=rep, customer=c, values={"uscc": OTHER_USCC})
    assert Customer.objects.get(pk=c.pk).uscc == OTHER_USCC
    # blank codes do not collide
    services.create_customer(actor=rep, data={"name": "个体甲"})
    services.create_customer(actor=rep, data={"name": "个体乙"})


def test_update_customer_refuses_owner_changes_and_unknown_stages(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    c = customer_factory(owner=rep, name="上海天成")
    with pytest.raises(ValidationError) as exc:
        services.update_customer(actor=rep, customer=c, values={"owner": role_users["rep_south"]})
    assert "owner" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.update_customer(actor=rep, customer=c, values={"lifecycle_stage": "vip"})
    assert "lifecycle_stage" in exc.value.message_dict
    c = Customer.objects.get(pk=c.pk)
    assert (c.owner_id, c.lifecycle_stage) == (rep.pk, "prospect")
    changes = services.update_customer(actor=rep, customer=c, values={"lifecycle_stage": "new", "city": "上海"})
    assert changes["lifecycle_stage"] == ["prospect", "new"] and changes["city"] == ["", "上海"]


def test_assign_moves_customer_and_the_old_owners_contacts(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    rep, south, manager = role_users["rep"], role_users["rep_south"], role_users["manager"]
    c = customer_factory(owner=rep, name="转交客户")
    mine = contact_factory(owner=rep, customer=c, name="刘洋")
    kept = contact_factory(owner=manager, customer=c, name="陈静", actor=manager)
    changes = services.assign(actor=manager, obj=c, owner=south)
    assert changes["owner"] == [rep.pk, south.pk]
    assert changes["team"] == [rep.team_id, south.team_id]
    c.refresh_from_db()
    assert (c.owner, c.team) == (south, south.team)
    assert Contact.objects.get(pk=mine.pk).owner == south
    assert Contact.objects.get(pk=kept.pk).owner == manager
    assert Event.objects.filter(verb="assigned", object_id=c.pk, content_type__model="customer").count() == 1


def test_assign_needs_the_right_and_an_active_user(
    role_users: dict[str, User], customer_factory: Any, superuser: User
) -> None:
    rep, south = role_users["rep"], role_users["rep_south"]
    c = customer_factory(owner=rep, name="不能转")
    with pytest.raises(PermissionDenied):
        services.assign(actor=rep, obj=c, owner=south)  # reps have no assign right
    user_services.update_user(actor=superuser, user=south, values={"is_active": False})
    with pytest.raises(ValidationError) as exc:
        services.assign(actor=role_users["manager"], obj=c, owner=User.objects.get(pk=south.pk))
    assert "owner" in exc.value.message_dict
    assert Customer.objects.get(pk=c.pk).owner == rep


def test_tags(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    vip = services.get_or_create_tag(actor=rep, name=" VIP ")
    assert services.get_or_create_tag(actor=rep, name="vip") == vip  # case-insensitive
    with pytest.raises(ValidationError):
        services.get_or_create_tag(actor=rep, name="  ")
    hot = services.get_or_create_tag(actor=rep, name="重点")
    c = customer_factory(owner=rep, name="打标签", tags=[vip])
    changes = services.add_tags(actor=rep, obj=c, tags=[vip, hot])
    assert changes == {"tags": [[vip.pk], sorted([vip.pk, hot.pk])]}
    assert set(c.tags.all()) == {vip, hot}
    assert services.add_tags(actor=rep, obj=c, tags=[hot]) == {}  # already there
    assert Event.objects.filter(verb="tagged", object_id=c.pk, content_type__model="customer").count() == 1
    assert Tag.objects.count() == 2


def test_bulk_update_skips_and_counts_records_outside_scope(role_users: dict[str, User], customer_factory: Any) -> None:
    rep, south, east_manager = role_users["rep"], role_users["rep_south"], role_users["east_manager"]
    own = [customer_factory(owner=rep, name=f"华东{i}") for i in range(3)]
    shanghai = customer_factory(owner=role_users["rep_sh"], name="上海组客户")
    theirs = customer_factory(owner=south, name="华南客户")
    ids = [c.pk for c in [*own, shanghai, theirs]] + [999999]
    tag = services.get_or_create_tag(actor=rep, name="跟进")

    changed, skipped = services.bulk_update(actor=rep, model=Customer, ids=ids, action="tag", value=tag)
    assert (changed, skipped) == (3, 3)
    assert set(Customer.objects.filter(tags=tag).values_list("pk", flat=True)) == {c.pk for c in own}

    changed, skipped = services.bulk_update(actor=east_manager, model=Customer, ids=ids, action="stage", value="new")
    assert (changed, skipped) == (4, 2)
    assert Customer.objects.get(pk=theirs.pk).lifecycle_stage == "prospect"

    # a rep has no assign right: everything is skipped, nothing changes
    assert services.bulk_update(actor=rep, model=Customer, ids=ids, action="assign", value=south) == (0, 6)
    changed, skipped = services.bulk_update(
        actor=east_manager, model=Customer, ids=ids, action="assign", value=role_users["rep_sh"]
    )
    assert (changed, skipped) == (3, 2)  # 上海组's customer already belongs to rep_sh: unchanged, not skipped
    assert Customer.objects.get(pk=theirs.pk).owner == south
    assert set(Customer.objects.filter(owner=role_users["rep_sh"]).values_list("pk", flat=True)) == {
        *(c.pk for c in own),
        shanghai.pk,
    }


def test_contact_channels_are_normalised(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    c = customer_factory(owner=rep, name="渠道客户")
    contact = services.create_contact(
        actor=rep,
        data={"name": "周杰", "customer": c},
        channels=[
            {"kind": "email", "value": " Zhou.Jie@Example.COM ", "is_primary": True},
            {"kind": "phone", "value": "138 0013 8000"},
            {"kind": "whatsapp", "value": "+44 7911 123456"},
            {"kind": "wechat", "value": "@ZhouJie_88"},
            {"kind": "linkedin", "value": "https://www.linkedin.com/in/zhou-jie-88/"},
            {"kind": "qq", "value": "10001"},
            {"kind": "phone", "value": ""},  # empty rows are ignored
        ],
    )
    got = {(ch.kind, ch.normalized) for ch in contact.channels.all()}
    assert got == {
        ("email", "zhou.jie@example.com"),
        ("phone", "+8613800138000"),
        ("whatsapp", "+447911123456"),
        ("wechat", "zhoujie_88"),
        ("linkedin", "zhou-jie-88"),  # a profile address is kept as entered, searchable by its public id
        ("qq", "10001"),
    }
    assert contact.owner == rep and contact.team == rep.team
    channel_event = Event.objects.filter(object_id=contact.pk, content_type__model="contact", verb="updated").get()
    assert "email:zhou.jie@example.com" in channel_event.changes["channels"][1]


@pytest.mark.parametrize(
    ("channels", "key"),
    [
        (
            [{"kind": "email", "value": "ok@example.com"}, {"kind": "email", "value": "not-an-email"}],
            "channels.1.value",
        ),
        ([{"kind": "phone", "value": "12345"}], "channels.0.value"),
        (
            [{"kind": "phone", "value": "13800138000"}, {"kind": "phone", "value": "+86 138 0013 8000"}],
            "channels.1.value",
        ),
        ([{"kind": "wechat", "value": "two words"}], "channels.0.value"),
        ([{"kind": "wechat", "value": '"><svg/onload=alert(1)>'}], "channels.0.value"),
        ([{"kind": "linkedin", "value": "javascript:alert(1)"}], "channels.0.value"),
        ([{"kind": "qq", "value": "qq12345"}], "channels.0.value"),
        ([{"kind": "dingtalk", "value": "张 伟"}], "channels.0.value"),
        ([{"kind": "fax", "value": "010-1234567"}], "channels.0.kind"),
    ],
)
def test_bad_channel_names_the_channel_and_saves_nothing(
    role_users: dict[str, User], customer_factory: Any, channels: list, key: str
) -> None:
    rep = role_users["rep"]
    c = customer_factory(owner=rep, name="坏渠道")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.create_contact(actor=rep, data={"name": "吴敏", "customer": c}, channels=channels)
    assert key in exc.value.message_dict
    assert counts() == before

    contact = services.create_contact(
        actor=rep, data={"name": "吴敏", "customer": c}, channels=[{"kind": "email", "value": "wu@example.com"}]
    )
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.update_contact(actor=rep, contact=contact, values={"title": "经理"}, channels=channels)
    assert key in exc.value.message_dict
    assert counts() == before
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.title == ""
    assert [ch.normalized for ch in contact.channels.all()] == ["wu@example.com"]


def test_update_contact_replaces_channels_and_bumps_version(role_users: dict[str, User], contact_factory: Any) -> None:
    rep = role_users["rep"]
    contact = contact_factory(owner=rep, name="郑爽", channels=[{"kind": "phone", "value": "13800138000"}])
    version = Contact.objects.get(pk=contact.pk).version
    changes = services.update_contact(
        actor=rep, contact=contact, values={}, channels=[{"kind": "phone", "value": "13900139000"}]
    )
    assert changes == {"channels": [["phone:+8613800138000"], ["phone:+8613900139000"]]}
    assert Contact.objects.get(pk=contact.pk).version == version + 1
    assert [ch.normalized for ch in contact.channels.all()] == ["+8613900139000"]


def test_contact_cannot_be_attached_to_an_invisible_customer(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    rep = role_users["rep"]
    theirs = customer_factory(owner=role_users["rep_south"], name="别人的客户")
    with pytest.raises(ValidationError) as exc:
        services.create_contact(actor=rep, data={"name": "钱多", "customer": theirs})
    assert "customer" in exc.value.message_dict
    contact = contact_factory(owner=rep, name="钱多")
    with pytest.raises(ValidationError):
        services.update_contact(actor=rep, contact=contact, values={"customer": theirs})
    assert Contact.objects.get(pk=contact.pk).customer is None


def test_customer_with_contacts_cannot_be_deleted(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    admin = role_users["admin"]
    c = customer_factory(owner=admin, name="有联系人")
    contact = contact_factory(owner=admin, customer=c, name="孙丽")
    with pytest.raises(ValidationError):
        services.delete_customer(actor=admin, customer=c)
    services.delete_contact(actor=admin, contact=contact)
    pk = c.pk
    services.delete_customer(actor=admin, customer=c)
    assert not Customer.objects.filter(pk=pk).exists()
    deleted = Event.objects.get(verb="deleted", object_id=pk, content_type__model="customer")
    assert deleted.changes["name"] == ["有联系人", None]
