"""The permission gate: data scopes, union of roles, 404 for what is out of scope, field rules (G1), actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kehu.core import permissions
from kehu.core.models import Event
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead
from kehu.users import services as user_services
from kehu.users.models import Role, User

pytestmark = pytest.mark.django_db

FINANCE_FIELDS = ("credit_limit", "payment_terms", "bank_account")


@pytest.fixture
def book(role_users: dict[str, User], customer_factory: Any) -> dict[str, Customer]:
    """One customer owned by each sales user and one by the administrator (in HQ)."""
    return {
        who: customer_factory(owner=role_users[who], name=f"{who} 客户")
        for who in ("rep", "rep_sh", "rep_south", "manager", "admin")
    }


def names(user: User, model: type = Customer) -> set[str]:
    return set(permissions.visible(model, user).values_list("name", flat=True))


def test_own_scope_sees_only_own_records(role_users: dict[str, User], book: dict[str, Customer]) -> None:
    assert names(role_users["rep"]) == {"rep 客户"}
    assert names(role_users["rep_south"]) == {"rep_south 客户"}


def test_team_scope_covers_sub_teams_and_not_sibling_teams(
    role_users: dict[str, User], book: dict[str, Customer]
) -> None:
    # 华东区's manager sees 华东区 and its sub-team 上海组, not 华南区 nor HQ
    assert names(role_users["east_manager"]) == {"rep 客户", "rep_sh 客户"}
    # 销售部's manager sees the whole sales tree, and their own
    assert names(role_users["manager"]) == {"rep 客户", "rep_sh 客户", "rep_south 客户", "manager 客户"}


def test_all_scope_sees_everything(role_users: dict[str, User], book: dict[str, Customer]) -> None:
    everything = {c.name for c in book.values()}
    assert len(everything) == 5
    for who in ("admin", "agent", "finance", "marketing"):
        assert names(role_users[who]) == everything, who


def test_union_of_roles_takes_widest_scope_every_action_and_only_common_hidden_fields(
    role_users: dict[str, User], book: dict[str, Customer], user_factory: Any, team_tree: Any
) -> None:
    both = user_factory(username="rep_fin", team=team_tree["east"], roles=["sales_rep", "finance"])
    assert len(names(both)) == 5  # finance's "all" beats the rep's "own"
    pol = permissions.policy(both, Customer)
    assert pol.can("add") and pol.can("export") and pol.can("change")
    assert not pol.can("delete")
    # the rep hides finance fields, finance does not: the union can read them
    assert all(pol.can_read(f) for f in FINANCE_FIELDS)
    # finance makes the name read-only, the rep does not: the union may write it
    assert pol.can_write("name")


def test_no_role_sees_nothing_anywhere(
    role_users: dict[str, User], book: dict[str, Customer], lead_factory: Any
) -> None:
    lead_factory(owner=role_users["rep"], name="王芳")
    nobody = role_users["nobody"]
    for model in (Customer, Contact, Lead):
        assert not permissions.visible(model, nobody).exists()
        assert not permissions.policy(nobody, model).can("view")
    with pytest.raises(Http404):
        permissions.get_or_404(Customer, nobody, book["rep"].pk)


def test_deactivated_user_sees_nothing(role_users: dict[str, User], book: dict[str, Customer], fresh: Any) -> None:
    admin = role_users["admin"]
    user_services.update_user(actor=role_users["admin"], user=role_users["agent"], values={"is_active": False})
    assert not permissions.visible(Customer, fresh(role_users["agent"])).exists()
    assert permissions.visible(Customer, admin).count() == 5


def test_out_of_scope_and_missing_are_the_same_404(role_users: dict[str, User], book: dict[str, Customer]) -> None:
    rep = role_users["rep"]
    assert permissions.get_or_404(Customer, rep, book["rep"].pk) == book["rep"]
    missing = Customer.objects.order_by("-pk").first().pk + 1000
    for pk in (book["rep_south"].pk, book["admin"].pk, missing, "not-a-number"):
        with pytest.raises(Http404):
            permissions.get_or_404(Customer, rep, pk)
    # an action the rep lacks on their own record is a 404 too, never a 403
    with pytest.raises(Http404):
        permissions.get_or_404(Customer, rep, book["rep"].pk, action="delete")


def test_g1_sales_rep_cannot_read_finance_fields_finance_can(role_users: dict[str, User]) -> None:
    for who in ("rep", "manager", "marketing", "agent"):
        pol = permissions.policy(role_users[who], Customer)
        unreadable = [f for f in FINANCE_FIELDS if pol.can_read(f)]
        expected = list(FINANCE_FIELDS) if who == "manager" else []
        assert unreadable == expected, who
    fin = permissions.policy(role_users["finance"], Customer)
    assert all(fin.can_read(f) and fin.can_write(f) for f in FINANCE_FIELDS)
    assert permissions.readable(role_users["rep"], Customer, ["name", *FINANCE_FIELDS]) == ["name"]


def test_finance_fields_masked_in_change_history(role_users: dict[str, User], book: dict[str, Customer]) -> None:
    customer_services.update_customer(
        actor=role_users["finance"], customer=book["rep"], values={"credit_limit": "50000.00", "payment_terms": "N30"}
    )
    event = Event.objects.filter(object_id=book["rep"].pk, verb="updated").latest("id")
    assert set(event.changes) == {"credit_limit", "payment_terms"}
    assert permissions.mask_changes(role_users["rep"], "customers.customer", event.changes) == {}
    assert permissions.mask_changes(role_users["finance"], "customers.customer", event.changes) == event.changes


def test_rep_cannot_write_finance_fields_and_nothing_is_saved(
    role_users: dict[str, User], book: dict[str, Customer]
) -> None:
    rep, customer = role_users["rep"], book["rep"]
    events_before = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        customer_services.update_customer(
            actor=rep, customer=customer, values={"name": "改名", "credit_limit": "99999.00"}
        )
    assert "credit_limit" in exc.value.message_dict
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == ("rep 客户", None)
    assert Event.objects.count() == events_before
    with pytest.raises(ValidationError) as exc:
        customer_services.create_customer(actor=rep, data={"name": "新客户", "bank_account": "6222 0000"})
    assert "bank_account" in exc.value.message_dict
    assert not Customer.objects.filter(name="新客户").exists()


def test_readonly_fields_are_rejected_on_write(role_users: dict[str, User], book: dict[str, Customer]) -> None:
    fin, customer = role_users["finance"], book["rep"]
    with pytest.raises(ValidationError) as exc:
        customer_services.update_customer(actor=fin, customer=customer, values={"name": "财务改的名字"})
    assert set(exc.value.message_dict) == {"name"}
    customer.refresh_from_db()
    assert customer.name == "rep 客户"
    # the fields finance maintains go through
    customer_services.update_customer(actor=fin, customer=customer, values={"bank_account": "6222 1234"})
    customer.refresh_from_db()
    assert customer.bank_account == "6222 1234"


def test_action_checks(role_users: dict[str, User], book: dict[str, Customer], lead_factory: Any) -> None:
    with pytest.raises(PermissionDenied):
        customer_services.delete_customer(actor=role_users["rep"], customer=book["rep"])
    assert Customer.objects.filter(pk=book["rep"].pk).exists()
    with pytest.raises(PermissionDenied):
        customer_services.create_customer(actor=role_users["marketing"], data={"name": "市场部建的客户"})
    assert not Customer.objects.filter(name="市场部建的客户").exists()
    # a rep may not change a record outside their scope even when handed the object
    with pytest.raises(PermissionDenied):
        customer_services.update_customer(actor=role_users["rep"], customer=book["rep_south"], values={"city": "广州"})

    lead = lead_factory(owner=role_users["rep"], name="李雷")
    agent = role_users["agent"]
    assert not permissions.visible(Lead, agent).exists()
    assert not permissions.can(agent, Lead, "view", lead)
    with pytest.raises(Http404):
        permissions.get_or_404(Lead, agent, lead.pk)
    # the administrator may delete
    customer_services.delete_customer(actor=role_users["admin"], customer=book["admin"])
    assert not Customer.objects.filter(pk=book["admin"].pk).exists()


def test_role_change_takes_effect_on_next_load(
    role_users: dict[str, User], book: dict[str, Customer], fresh: Any
) -> None:
    rep = role_users["rep"]
    user_services.update_user(
        actor=role_users["admin"], user=rep, values={}, roles=[Role.objects.get(code="sales_manager")]
    )
    assert names(fresh(rep)) == {"rep 客户", "rep_sh 客户"}  # now sees 华东区 and 上海组
