"""Quotes → orders → contracts → payments (S7) through their services: numbering, totals, versions, the
accept → order (+ won deal) step, the open-amount check, overdue flags, contract files and the quote PDF —
and every refused input leaves the database as it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO
from typing import Any

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.core import permissions
from kehu.core.models import Event
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.sales import services
from kehu.sales.models import (
    Contract,
    ContractFile,
    DocumentCounter,
    OrderLine,
    Payment,
    PriceList,
    Quote,
    QuoteLine,
    SalesOrder,
)
from kehu.sales.pdf import CJK_FONT, quote_pdf
from kehu.sales.services import catalogue, documents
from kehu.sales.services.documents import contracts as contracts_module
from kehu.users.models import Role, RolePermission, User
from tests.factories import operator

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def state() -> tuple[int, ...]:
    """Row counts a refused write must leave as they were."""
    return (
        Quote.objects.count(),
        QuoteLine.objects.count(),
        SalesOrder.objects.count(),
        OrderLine.objects.count(),
        Contract.objects.count(),
        Payment.objects.count(),
        Event.objects.exclude(verb="logged_in").count(),
        sum(DocumentCounter.objects.values_list("last", flat=True)),
    )


@pytest.fixture
def catalog(db: Any) -> dict[str, Any]:
    admin = operator()
    cny = PriceList.objects.get(currency="CNY", is_default=True)
    usd = catalogue.create_price_list(actor=admin, data={"name": "Export", "currency": "usd"})
    crm = catalogue.create_product(actor=admin, data={"name": "客户管理软件 标准版", "sku": "CRM-STD", "unit": "套"})
    svc = catalogue.create_product(actor=admin, data={"name": "实施服务", "sku": "SVC-DAY", "unit": "人天"})
    odd = catalogue.create_product(actor=admin, data={"name": "硬件网关", "sku": "HW-GW"})
    catalogue.set_prices(actor=admin, price_list=cny, prices={crm: "100.00", svc: "50"})
    catalogue.set_prices(actor=admin, price_list=usd, prices={crm: "15.00"})
    return {"cny": cny, "usd": usd, "crm": crm, "svc": svc, "odd": odd}


def customer_of(user: User, name: str = "上海示例科技有限公司", **data: Any) -> Customer:
    return customer_services.create_customer(actor=user, data={"name": name, **data})


def quote_for(user: User, catalog: dict[str, Any], customer: Customer | None = None, **data: Any) -> Quote:
    customer = customer or customer_of(user)
    lines = data.pop(
        "lines",
        [
            {"product": catalog["crm"], "quantity": "2", "discount": "10"},
            {"product": catalog["svc"], "quantity": "1"},
        ],
    )
    return documents.create_quote(
        actor=user, data={"customer": customer, "price_list": catalog["cny"], **data}, lines=lines
    )


def sent_quote(user: User, catalog: dict[str, Any], **data: Any) -> Quote:
    quote = quote_for(user, catalog, **data)
    documents.send_quote(actor=user, quote=quote)
    return Quote.objects.get(pk=quote.pk)


# --------------------------------------------------------------------------- quotes


def test_quote_totals_are_computed_and_stored(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = Quote.objects.get(pk=quote_for(role_users["rep"], catalog).pk)
    # 2 × 100 − 10 % = 180, 1 × 50 = 50 → subtotal 250, discount 20, tax 13 % of 230 = 29.90
    assert (quote.subtotal, quote.discount_total, quote.tax, quote.total) == (
        Decimal("250.00"),
        Decimal("20.00"),
        Decimal("29.90"),
        Decimal("259.90"),
    )
    assert quote.tax_rate == Decimal("13.00") and quote.currency == "CNY"
    assert [(line.product.sku, line.total) for line in quote.lines.all()] == [
        ("CRM-STD", Decimal("180.00")),
        ("SVC-DAY", Decimal("50.00")),
    ]
    assert quote.status == "draft" and quote.owner == role_users["rep"]


def test_quote_numbers_count_up_per_year(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    first = quote_for(rep, catalog)
    second = quote_for(rep, catalog)
    assert (first.number, second.number) == (f"Q-{YEAR}-00001", f"Q-{YEAR}-00002")
    from django.db import transaction

    with transaction.atomic():
        assert documents.next_number("quote", on=dt.date(YEAR - 1, 6, 1)) == f"Q-{YEAR - 1}-00001"
        assert documents.next_number("order") == f"SO-{YEAR}-00001"


def test_number_skips_one_already_taken(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    quote = quote_for(rep, catalog)
    DocumentCounter.objects.filter(kind="quote").update(last=0)  # e.g. numbers imported without the counter
    assert quote_for(rep, catalog).number != quote.number


def test_negative_quantity_is_refused_and_nothing_saved(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    with pytest.raises(ValidationError) as exc:
        quote_for(rep, catalog, customer=customer, lines=[{"product": catalog["crm"], "quantity": "-3"}])
    assert exc.value.message_dict == {"lines.0.quantity": ["The quantity must be greater than zero."]}
    assert state() == before


def test_product_missing_from_price_list_is_refused(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    for price in (None, "99"):  # a hand-typed price does not make the product sellable in that list
        with pytest.raises(ValidationError) as exc:
            quote_for(
                rep,
                catalog,
                customer=customer,
                lines=[{"product": catalog["crm"], "quantity": 1}, {"product": catalog["odd"], "unit_price": price}],
            )
        assert exc.value.message_dict == {
            "lines.1.product": ["“硬件网关” has no price in the price list “标准价 Standard (CNY)”."]
        }
    assert state() == before


def test_currency_follows_the_price_list(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = quote_for(role_users["rep"], catalog, price_list=catalog["usd"], lines=[{"product": catalog["crm"]}])
    assert (quote.currency, quote.subtotal) == ("USD", Decimal("15.00"))
    with pytest.raises(ValidationError) as exc:  # the USD list has no price for the service
        documents.update_quote(
            actor=role_users["rep"], quote=quote, values={}, lines=[{"product": catalog["svc"], "quantity": 1}]
        )
    assert "lines.0.product" in exc.value.message_dict


def test_bad_discount_and_tax_rate_are_refused(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    with pytest.raises(ValidationError) as exc:
        quote_for(rep, catalog, customer=customer, lines=[{"product": catalog["crm"], "discount": "120"}])
    assert exc.value.message_dict == {"lines.0.discount": ["The discount must be between 0 and 100 %."]}
    with pytest.raises(ValidationError) as exc:
        quote_for(rep, catalog, customer=customer, tax_rate="-1")
    assert exc.value.message_dict == {"tax_rate": ["The tax rate must be between 0 and 100 %."]}
    assert state() == before


def test_quote_from_opportunity_takes_its_customer_and_lines(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    opp = services.create_opportunity(
        actor=rep,
        data={"name": "年度CRM采购", "customer": customer},
        lines=[{"product": catalog["crm"], "quantity": 3, "unit_price": "90", "discount": 0}],
    )
    quote = documents.create_quote(actor=rep, data={"opportunity": opp})
    assert (quote.customer, quote.title, quote.price_list) == (customer, "年度CRM采购", catalog["cny"])
    assert [(line.product, line.quantity, line.unit_price) for line in quote.lines.all()] == [
        (catalog["crm"], Decimal("3.00"), Decimal("90.00"))
    ]


def test_only_drafts_can_be_changed(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    quote = sent_quote(rep, catalog)
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.update_quote(actor=rep, quote=quote, values={"title": "改价"})
    assert "Only draft quotes can be changed" in exc.value.messages[0]
    assert state() == before


def test_status_flow(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    quote = quote_for(rep, catalog)
    with pytest.raises(ValidationError):
        documents.accept_quote(actor=rep, quote=quote)  # a draft was never sent
    documents.send_quote(actor=rep, quote=quote)
    documents.decline_quote(actor=rep, quote=quote)
    quote.refresh_from_db()
    assert quote.status == "declined" and quote.decided_at is not None
    with pytest.raises(ValidationError):
        documents.accept_quote(actor=rep, quote=quote)


def test_new_version_copies_lines_and_supersedes_the_old(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    old = sent_quote(rep, catalog)
    new = documents.revise_quote(actor=rep, quote=old)
    old.refresh_from_db()
    assert (new.number, new.revision, new.status) == (old.number, 2, "draft")
    assert old.status == "superseded"
    assert [(line.product_id, line.total) for line in new.lines.all()] == [
        (line.product_id, line.total) for line in old.lines.all()
    ]
    assert new.total == old.total
    with pytest.raises(ValidationError):
        documents.revise_quote(actor=rep, quote=old)  # only the newest version is revised
    documents.update_quote(actor=rep, quote=new, values={}, lines=[{"product": catalog["svc"], "quantity": 2}])
    new.refresh_from_db()
    assert new.total == Decimal("113.00") and old.lines.count() == 2


# --------------------------------------------------------------------------- accept → order


def test_accept_creates_the_order_and_wins_the_deal(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    opp = services.create_opportunity(actor=rep, data={"name": "华东区域项目", "customer": customer})
    quote = sent_quote(rep, catalog, customer=customer, opportunity=opp)
    result = documents.accept_quote(actor=rep, quote=quote)
    order = SalesOrder.objects.get(pk=result.order.pk)
    quote.refresh_from_db()
    opp.refresh_from_db()
    assert result.opportunity_won is True
    assert quote.status == "accepted"
    assert (order.number, order.customer, order.quote, order.opportunity) == (
        f"SO-{YEAR}-00001",
        customer,
        quote,
        opp,
    )
    assert (order.ordered_on, order.total, order.currency, order.owner) == (
        timezone.localdate(),
        quote.total,
        "CNY",
        rep,
    )
    assert order.lines.count() == 2
    assert (opp.status, opp.stage.kind) == ("won", "won")


def test_accept_keeps_the_order_when_the_deal_may_not_be_moved(
    role_users: dict[str, User], catalog: dict[str, Any], user_factory: Any
) -> None:
    desk = Role.objects.create(code="quote_desk", name_en="Quote desk", name_zh="报价台")
    grants = {
        "customers.customer": ["view"],
        "sales.opportunity": ["view"],
        "sales.quote": ["view", "change"],
        "sales.salesorder": ["view", "add"],
    }
    for object_type, actions in grants.items():
        RolePermission.objects.create(role=desk, object_type=object_type, actions=actions, scope="all")
    clerk = user_factory(username="clerk", roles=["quote_desk"])
    rep = role_users["rep"]
    customer = customer_of(rep)
    opp = services.create_opportunity(actor=rep, data={"name": "只读商机", "customer": customer})
    quote = sent_quote(rep, catalog, customer=customer, opportunity=opp)
    result = documents.accept_quote(actor=clerk, quote=quote)
    opp.refresh_from_db()
    assert result.opportunity_won is False and opp.status == "open"
    assert SalesOrder.objects.filter(quote=quote).exists()


def test_finance_cannot_accept_quotes(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = sent_quote(role_users["rep"], catalog)
    before = state()
    with pytest.raises(PermissionDenied):
        documents.accept_quote(actor=role_users["finance"], quote=quote)
    assert state() == before


def accepted_order(user: User, catalog: dict[str, Any]) -> SalesOrder:
    quote = sent_quote(user, catalog)
    return documents.accept_quote(actor=user, quote=quote).order


# --------------------------------------------------------------------------- who sees what (G1)


def test_service_agent_sees_no_transactions_rep_only_own_finance_all(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    order = accepted_order(role_users["rep"], catalog)
    other = accepted_order(role_users["rep_south"], catalog)
    finance = role_users["finance"]
    payment = documents.create_payment(
        actor=finance, data={"sales_order": order, "amount": "100", "due_date": timezone.localdate()}
    )
    agent = role_users["agent"]
    for model in (Quote, SalesOrder, Contract, Payment):
        assert not permissions.visible(model, agent).exists()
    assert set(permissions.visible(SalesOrder, role_users["rep"])) == {order}
    assert set(permissions.visible(Payment, role_users["rep"])) == {payment}  # payments follow their order's owner
    assert set(permissions.visible(SalesOrder, finance)) == {order, other}
    assert set(permissions.visible(SalesOrder, role_users["manager"])) == {order, other}
    assert set(permissions.visible(SalesOrder, role_users["east_manager"])) == {order}


# --------------------------------------------------------------------------- contracts


def test_contract_ending_before_it_starts_is_refused(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_contract(
            actor=rep,
            data={
                "title": "年度服务合同",
                "customer": customer,
                "start_date": dt.date(2026, 3, 1),
                "end_date": dt.date(2026, 2, 1),
                "value": "1000",
            },
        )
    assert exc.value.message_dict == {"end_date": ["The contract cannot end before it starts."]}
    assert state() == before


def test_contract_kind_must_match_the_relationship(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    supplier = customer_of(rep, name="深圳元件供应商", relationship="supplier")
    data = {"title": "采购框架协议", "start_date": dt.date(2026, 1, 1), "kind": "supplier"}
    with pytest.raises(ValidationError) as exc:
        documents.create_contract(actor=rep, data={**data, "customer": customer})
    assert exc.value.message_dict == {"kind": ["“上海示例科技有限公司” is not marked as a supplier."]}
    with pytest.raises(ValidationError) as exc:
        documents.create_contract(actor=rep, data={**data, "kind": "partner", "customer": supplier})
    assert "kind" in exc.value.message_dict
    contract = documents.create_contract(actor=rep, data={**data, "customer": supplier})
    assert contract.number == f"CT-{YEAR}-00001" and contract.kind == "supplier"


def test_contract_from_order_takes_its_customer_value_and_currency(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    order = accepted_order(role_users["rep"], catalog)
    contract = documents.create_contract(
        actor=role_users["finance"], data={"sales_order": order, "start_date": dt.date(2026, 1, 1)}
    )
    assert (contract.customer, contract.value, contract.currency, contract.owner) == (
        order.customer,
        order.total,
        "CNY",
        role_users["rep"],
    )


def test_contract_files_type_and_size(role_users: dict[str, User], settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    rep = role_users["rep"]
    contract = documents.create_contract(
        actor=rep, data={"title": "服务合同", "customer": customer_of(rep), "start_date": dt.date(2026, 1, 1)}
    )
    bad = [
        SimpleUploadedFile("合同.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
        SimpleUploadedFile("合同.pdf", b"<html>not a pdf</html>", content_type="application/pdf"),
    ]
    for upload in bad:
        with pytest.raises(ValidationError) as exc:
            documents.add_contract_file(actor=rep, contract=contract, upload=upload)
        assert "file" in exc.value.message_dict
    settings.KEHU_MAX_UPLOAD_BYTES = 10
    with pytest.raises(ValidationError) as exc:
        documents.add_contract_file(
            actor=rep, contract=contract, upload=SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"x" * 20)
        )
    assert list(exc.value.message_dict) == ["file"] and "larger than" in exc.value.messages[0]
    assert not ContractFile.objects.exists() and not any(tmp_path.rglob("*.*"))
    settings.KEHU_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    item = documents.add_contract_file(
        actor=rep, contract=contract, upload=SimpleUploadedFile("签字版.pdf", b"%PDF-1.4 signed")
    )
    assert item.name == "签字版.pdf" and item.size == 15
    assert "签字版" not in item.file.name and item.file.name.endswith(".pdf")  # stored under a random name
    documents.delete_contract_file(actor=rep, item=item)
    assert not ContractFile.objects.exists()


def test_files_a_role_may_not_change_cannot_be_added_or_removed(
    role_users: dict[str, User], settings: Any, tmp_path: Any, fresh: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    rep = role_users["rep"]
    contract = documents.create_contract(
        actor=rep, data={"title": "服务合同", "customer": customer_of(rep), "start_date": dt.date(2026, 1, 1)}
    )
    item = documents.add_contract_file(actor=rep, contract=contract, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4"))
    RolePermission.objects.filter(role__code="sales_rep", object_type="sales.contract").update(
        field_rules={"files": "readonly"}
    )
    rep = fresh(rep)
    with pytest.raises(PermissionDenied):
        documents.add_contract_file(actor=rep, contract=contract, upload=SimpleUploadedFile("b.pdf", b"%PDF-1.4"))
    with pytest.raises(PermissionDenied):
        documents.delete_contract_file(actor=rep, item=item)
    assert list(ContractFile.objects.values_list("name", flat=True)) == ["a.pdf"]
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_file_whose_row_cannot_be_saved_leaves_nothing_on_disk(
    role_users: dict[str, User], settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    rep = role_users["rep"]
    contract = documents.create_contract(
        actor=rep, data={"title": "服务合同", "customer": customer_of(rep), "start_date": dt.date(2026, 1, 1)}
    )

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the event log is unavailable")

    monkeypatch.setattr(contracts_module.events, "record", broken)
    with pytest.raises(RuntimeError):
        documents.add_contract_file(actor=rep, contract=contract, upload=SimpleUploadedFile("签字版.pdf", b"%PDF-1.4"))
    assert not ContractFile.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # the written file went with the row


# --------------------------------------------------------------------------- payments


def test_payment_larger_than_open_amount_is_refused(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)  # total ¥259.90
    finance = role_users["finance"]
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "200", "status": "received"})
    order.refresh_from_db()
    assert order.paid_amount == Decimal("200.00")
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_payment(actor=finance, data={"sales_order": order, "amount": "60", "status": "received"})
    assert exc.value.message_dict == {
        "amount": [
            f"The payment (¥60.00) is more than is left to plan or collect on {order.number}: ¥59.90 of ¥259.90 "
            "(received ¥200.00, planned ¥0.00)."
        ]
    }
    assert state() == before
    order.refresh_from_db()
    assert order.paid_amount == Decimal("200.00")


def test_receiving_a_planned_payment_updates_paid_amount(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = role_users["finance"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    planned = documents.create_payment(
        actor=finance, data={"sales_order": order, "amount": "159.90", "due_date": yesterday}
    )
    assert planned.is_overdue
    assert Payment.objects.filter(documents.overdue_q()).get() == planned
    documents.receive_payment(actor=finance, payment=planned, method="bank", reference="HX-2026-001")
    planned.refresh_from_db()
    order.refresh_from_db()
    assert (planned.status, planned.received_on, planned.method) == ("received", timezone.localdate(), "bank")
    assert not planned.is_overdue and not Payment.objects.filter(documents.overdue_q()).exists()
    assert order.paid_amount == Decimal("159.90") and order.open_amount == Decimal("100.00")
    documents.cancel_payment(actor=finance, payment=planned)
    order.refresh_from_db()
    assert order.paid_amount == Decimal("0.00")


def test_receiving_a_planned_payment_over_the_open_amount_is_refused(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = role_users["finance"]
    planned = documents.create_payment(
        actor=finance, data={"sales_order": order, "amount": "159.90", "due_date": timezone.localdate()}
    )
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "100", "status": "received"})
    before = state()
    with pytest.raises(ValidationError) as exc:  # its own planned ¥159.90 is left out: 259.90 − 100 = 159.90 fits
        documents.receive_payment(actor=finance, payment=planned, amount="160")
    assert exc.value.message_dict == {
        "amount": [
            f"The payment (¥160.00) is more than is left to plan or collect on {order.number}: ¥159.90 of ¥259.90 "
            "(received ¥100.00, planned ¥0.00)."
        ]
    }
    assert state() == before
    planned.refresh_from_db()
    assert planned.status == "planned"
    documents.receive_payment(actor=finance, payment=planned)  # the full planned amount: exactly what is left
    order.refresh_from_db()
    assert (order.paid_amount, order.open_amount) == (Decimal("259.90"), Decimal("0.00"))


def test_payment_currency_and_target_checks(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = role_users["finance"]
    contract = documents.create_contract(actor=finance, data={"sales_order": order, "start_date": dt.date(2026, 1, 1)})
    before = state()
    cases = [
        ({"sales_order": order, "amount": "10", "currency": "USD", "status": "received"}, "currency"),
        ({"amount": "10", "status": "received"}, "sales_order"),
        ({"sales_order": order, "contract": contract, "amount": "10"}, "sales_order"),
        ({"sales_order": order, "amount": "0", "status": "received"}, "amount"),
        ({"sales_order": order, "amount": "10"}, "due_date"),
        (
            {"sales_order": order, "amount": "10", "status": "received", "received_on": dt.date(2999, 1, 1)},
            "received_on",
        ),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            documents.create_payment(actor=finance, data=data)
        assert list(exc.value.message_dict) == [field], data
    assert state() == before
    documents.create_payment(actor=finance, data={"contract": contract, "amount": "59.90", "status": "received"})
    contract.refresh_from_db()
    assert contract.paid_amount == Decimal("59.90")


def test_reps_and_agents_cannot_record_payments(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    for username in ("rep", "agent"):
        with pytest.raises(PermissionDenied):
            documents.create_payment(
                actor=role_users[username], data={"sales_order": order, "amount": "1", "status": "received"}
            )


def left_message(number: str, amount: str, left: str, total: str, received: str, planned: str) -> str:
    return (
        f"The payment ({amount}) is more than is left to plan or collect on {number}: {left} of {total} "
        f"(received {received}, planned {planned})."
    )


def test_planned_payments_cannot_exceed_the_total(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)  # total ¥259.90
    finance = role_users["finance"]
    due = timezone.localdate() + dt.timedelta(days=30)
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "200", "due_date": due})
    before = state()
    for status in ("planned", "received"):
        with pytest.raises(ValidationError) as exc:
            documents.create_payment(
                actor=finance, data={"sales_order": order, "amount": "60", "due_date": due, "status": status}
            )
        assert exc.value.message_dict == {
            "amount": [left_message(order.number, "¥60.00", "¥59.90", "¥259.90", "¥0.00", "¥200.00")]
        }
    assert state() == before
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "59.90", "due_date": due})
    assert documents.collection(order).left == Decimal("0.00")


def test_an_order_and_its_contract_collect_the_money_once(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    """Money received on the order and again on its contract may not add up to more than the sale."""
    order = accepted_order(role_users["rep"], catalog)  # total ¥259.90
    finance = role_users["finance"]
    contract = documents.create_contract(actor=finance, data={"sales_order": order, "start_date": dt.date(2026, 1, 1)})
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "200", "status": "received"})
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_payment(actor=finance, data={"contract": contract, "amount": "259.90", "status": "received"})
    assert exc.value.message_dict == {
        "amount": [left_message(order.number, "¥259.90", "¥59.90", "¥259.90", "¥200.00", "¥0.00")]
    }
    assert state() == before
    on_contract = documents.create_payment(
        actor=finance, data={"contract": contract, "amount": "59.90", "status": "received"}
    )
    order.refresh_from_db()
    contract.refresh_from_db()
    assert (order.paid_amount, order.open_amount, contract.paid_amount, contract.open_amount) == (
        Decimal("259.90"),
        Decimal("0.00"),
        Decimal("59.90"),
        Decimal("0.00"),  # the sale is paid, whichever document the money came in on
    )
    assert documents.collection(contract) == documents.collection(order)
    assert (documents.collection(order).received, documents.collection(order).open) == (Decimal("259.90"), 0)
    with pytest.raises(ValidationError):  # and the other way round: the order has nothing left either
        documents.create_payment(actor=finance, data={"sales_order": order, "amount": "1", "status": "received"})
    with pytest.raises(ValidationError):  # an order paid partly through its contract cannot be cancelled
        documents.set_order_status(actor=finance, order=order, status="cancelled")
    documents.cancel_payment(actor=finance, payment=on_contract)
    order.refresh_from_db()
    contract.refresh_from_db()
    assert (order.paid_amount, contract.paid_amount) == (Decimal("200.00"), Decimal("0.00"))


def test_an_orders_contract_is_in_its_currency_and_keeps_its_order_once_paid(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = role_users["finance"]
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_contract(
            actor=finance, data={"sales_order": order, "currency": "USD", "start_date": dt.date(2026, 1, 1)}
        )
    assert exc.value.message_dict == {
        "currency": [f"A contract for order {order.number} is in the order’s currency (CNY), not USD."]
    }
    assert state() == before
    contract = documents.create_contract(actor=finance, data={"sales_order": order, "start_date": dt.date(2026, 1, 1)})
    documents.create_payment(
        actor=finance, data={"contract": contract, "amount": "100", "due_date": timezone.localdate()}
    )
    other = accepted_order(role_users["rep"], catalog)
    with pytest.raises(ValidationError) as exc:
        documents.update_contract(actor=finance, contract=contract, values={"sales_order": other})
    assert exc.value.message_dict == {"sales_order": ["This contract has payments; its order cannot change."]}
    with pytest.raises(ValidationError) as exc:  # below what is planned on it
        documents.update_contract(actor=finance, contract=contract, values={"value": "99"})
    assert exc.value.message_dict == {
        "value": ["The value cannot be less than what is received and planned on this contract (¥100.00)."]
    }
    contract.refresh_from_db()
    assert (contract.sales_order, contract.value) == (order, Decimal("259.90"))


def test_a_cancelled_order_takes_no_payments_and_its_plans_are_no_longer_due(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = role_users["finance"]
    contract = documents.create_contract(actor=finance, data={"sales_order": order, "start_date": dt.date(2026, 1, 1)})
    past = timezone.localdate() - dt.timedelta(days=5)
    on_order = documents.create_payment(actor=finance, data={"sales_order": order, "amount": "100", "due_date": past})
    on_contract = documents.create_payment(actor=finance, data={"contract": contract, "amount": "50", "due_date": past})
    assert Payment.objects.filter(documents.overdue_q()).count() == 2
    documents.set_order_status(actor=finance, order=order, status="cancelled")
    on_order.refresh_from_db()
    on_contract.refresh_from_db()
    assert (on_order.status, on_contract.status) == ("cancelled", "cancelled")
    assert not on_order.is_overdue and not Payment.objects.filter(documents.overdue_q()).exists()
    assert Event.objects.filter(object_id=on_order.pk, verb="updated", changes__status=["planned", "cancelled"])
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_payment(actor=finance, data={"sales_order": order, "amount": "1", "status": "received"})
    assert exc.value.message_dict == {"sales_order": [f"Order {order.number} is cancelled; it takes no payments."]}
    with pytest.raises(ValidationError) as exc:
        documents.create_payment(actor=finance, data={"contract": contract, "amount": "1", "due_date": past})
    assert exc.value.message_dict == {
        "contract": [f"The order of contract {contract.number} ({order.number}) is cancelled; it takes no payments."]
    }
    with pytest.raises(ValidationError):
        documents.receive_payment(actor=finance, payment=on_order)
    assert state() == before


def test_a_terminated_contract_takes_no_payments_and_its_plans_are_no_longer_due(
    role_users: dict[str, User],
) -> None:
    finance = role_users["finance"]
    customer = customer_of(role_users["rep"])
    contract = documents.create_contract(
        actor=finance,
        data={"title": "年度服务合同", "customer": customer, "value": "10000", "start_date": dt.date(2026, 1, 1)},
    )
    past = timezone.localdate() - dt.timedelta(days=5)
    planned = documents.create_payment(actor=finance, data={"contract": contract, "amount": "5000", "due_date": past})
    documents.update_contract(actor=finance, contract=contract, values={"status": "terminated"})
    planned.refresh_from_db()
    assert planned.status == "cancelled" and not Payment.objects.filter(documents.overdue_q()).exists()
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_payment(actor=finance, data={"contract": contract, "amount": "1", "status": "received"})
    assert exc.value.message_dict == {"contract": [f"Contract {contract.number} is terminated; it takes no payments."]}
    assert state() == before


def eur_deal(rep: User, catalog: dict[str, Any], **data: Any) -> Any:
    return services.create_opportunity(
        actor=rep,
        data={"name": "Berlin rollout", "customer": customer_of(rep), "currency": "EUR", **data},
        lines=[{"product": catalog["crm"], "quantity": 2, "unit_price": "120"}],
    )


def test_a_quote_for_a_deal_is_in_the_deals_currency(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    opp = eur_deal(rep, catalog)
    assert documents.default_price_list("EUR") is None  # never a list in another currency
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_quote(actor=rep, data={"opportunity": opp})
    assert exc.value.message_dict == {
        "price_list": [
            "There is no active price list in EUR, the currency of the deal “Berlin rollout”. Add one in "
            "Settings → Price lists, or change the deal’s currency."
        ]
    }
    assert state() == before
    eur = catalogue.create_price_list(actor=operator(), data={"name": "Europe", "currency": "EUR"})
    catalogue.set_prices(actor=operator(), price_list=eur, prices={catalog["crm"]: "130"})
    before = state()
    with pytest.raises(ValidationError) as exc:
        documents.create_quote(actor=rep, data={"opportunity": opp, "price_list": catalog["cny"]})
    assert exc.value.message_dict == {
        "price_list": [
            "The deal “Berlin rollout” is in EUR; the price list “标准价 Standard” is in CNY. "
            "Choose a price list in EUR."
        ]
    }
    assert state() == before
    quote = documents.create_quote(actor=rep, data={"opportunity": opp})
    assert (quote.price_list, quote.currency, quote.subtotal) == (eur, "EUR", Decimal("240.00"))
    with pytest.raises(ValidationError) as exc:
        documents.update_quote(actor=rep, quote=quote, values={"price_list": catalog["usd"]})
    assert list(exc.value.message_dict) == ["price_list"]
    quote.refresh_from_db()
    assert quote.currency == "EUR"


def test_deal_lines_name_the_currency_without_a_price(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    opp = eur_deal(rep, catalog)
    with pytest.raises(ValidationError) as exc:
        services.set_lines(actor=rep, opp=opp, lines=[{"product": catalog["svc"], "quantity": 1}])
    assert exc.value.message_dict == {
        "lines.0.unit_price": [
            "There is no active price list in EUR, so “实施服务” has no price; enter the unit price."
        ]
    }
    usd_opp = services.create_opportunity(
        actor=rep, data={"name": "US deal", "customer": opp.customer, "currency": "USD"}
    )
    with pytest.raises(ValidationError) as exc:
        services.set_lines(actor=rep, opp=usd_opp, lines=[{"product": catalog["svc"], "quantity": 1}])
    assert exc.value.message_dict == {"lines.0.product": ["“实施服务” has no price in the price list “Export (USD)”."]}
    assert [line.product for line in opp.lines.all()] == [catalog["crm"]]


def test_inactive_products_cannot_be_added(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    admin = operator()
    customer = customer_of(rep)
    quote = quote_for(rep, catalog, customer=customer, lines=[{"product": catalog["crm"], "quantity": 1}])
    opp = services.create_opportunity(
        actor=rep,
        data={"name": "年度CRM采购", "customer": customer},
        lines=[{"product": catalog["crm"], "quantity": 1}],
    )
    catalogue.update_product(actor=admin, product=catalog["svc"], values={"active": False})
    catalogue.update_product(actor=admin, product=catalog["crm"], values={"active": False})
    message = {"lines.0.product": ["“实施服务” is no longer sold (inactive); choose another product."]}
    before = state()
    with pytest.raises(ValidationError) as exc:  # a new quote
        quote_for(rep, catalog, customer=customer, lines=[{"product": catalog["svc"], "quantity": 1}])
    assert exc.value.message_dict == message
    with pytest.raises(ValidationError) as exc:  # a new quote from the deal, whose product is no longer sold
        documents.create_quote(actor=rep, data={"opportunity": opp})
    assert exc.value.message_dict == {
        "lines.0.product": ["“客户管理软件 标准版” is no longer sold (inactive); choose another product."]
    }
    assert state() == before
    new = documents.revise_quote(actor=rep, quote=quote)  # a new version keeps its lines…
    lines = [{"product": catalog["crm"], "quantity": 3}]
    documents.update_quote(actor=rep, quote=new, values={}, lines=lines)  # …and may change them
    with pytest.raises(ValidationError) as exc:  # but may not add a product no longer sold
        documents.update_quote(actor=rep, quote=new, values={}, lines=[{"product": catalog["svc"], "quantity": 1}])
    assert exc.value.message_dict == message
    assert [(line.product, line.quantity) for line in new.lines.all()] == [(catalog["crm"], Decimal("3.00"))]
    services.set_lines(actor=rep, opp=opp, lines=[{"product": catalog["crm"], "quantity": 2}])  # already on it
    with pytest.raises(ValidationError) as exc:
        services.set_lines(actor=rep, opp=opp, lines=[{"product": catalog["svc"], "quantity": 1}])
    assert exc.value.message_dict == message
    assert [(line.product, line.quantity) for line in opp.lines.all()] == [(catalog["crm"], Decimal("2.00"))]


# --------------------------------------------------------------------------- PDF


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(data)).pages)


def test_quote_pdf_in_chinese_shows_chinese(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = quote_for(role_users["rep"], catalog, language="zh-hans", terms="付款方式：合同签订后30日内付清。")
    data = quote_pdf(quote)
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(BytesIO(data))
    fonts = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert f"/{CJK_FONT}" in fonts
    text = pdf_text(data)
    for expected in (
        "上海示例科技有限公司",
        "客户管理软件 标准版",
        "付款方式：合同签订后30日内付清。",
        quote.number,
        "¥259.90",
    ):
        assert expected in text


def test_quote_pdf_in_english(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = quote_for(role_users["rep"], catalog, language="en", valid_until=dt.date(2026, 12, 31))
    text = pdf_text(quote_pdf(quote))
    assert "Quote" in text and "Subtotal" in text and "Valid until" in text and "¥250.00" in text


# --------------------------------------------------------------------------- events


def test_writes_leave_events_on_the_customer_timeline(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    verbs = set(
        Event.objects.filter(parent_type__model="customer", parent_id=order.customer_id).values_list(
            "content_type__model", "verb"
        )
    )
    assert {("quote", "created"), ("quote", "updated"), ("salesorder", "created")} <= verbs
