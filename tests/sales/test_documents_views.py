"""The quote, order, contract and payment pages: forms that refuse bad input without saving, the step buttons,
the gate on every page (G1: a service agent sees no transaction anywhere), contract file downloads, the
customer's Transactions panel and query counts of the lists."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.sales.models import Contract, Payment, Quote, SalesOrder
from kehu.sales.services import documents
from kehu.users.models import User
from tests.sales.test_documents import accepted_order, catalog, customer_of, quote_for, sent_quote, state

__all__ = ["catalog"]  # the fixture, used by name below
pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def deal(role_users: dict[str, User], catalog: dict[str, Any]) -> dict[str, Any]:
    """A rep's accepted quote with its order, a contract, one received and one overdue payment."""
    rep, finance = role_users["rep"], role_users["finance"]
    order = accepted_order(rep, catalog)
    contract = documents.create_contract(actor=finance, data={"sales_order": order, "start_date": dt.date(2026, 1, 1)})
    received = documents.create_payment(
        actor=finance, data={"sales_order": order, "amount": "100", "status": "received"}
    )
    overdue = documents.create_payment(
        actor=finance,
        data={"sales_order": order, "amount": "50", "due_date": timezone.localdate() - dt.timedelta(days=2)},
    )
    return {"order": order, "quote": order.quote, "contract": contract, "received": received, "overdue": overdue}


def test_quote_form_refuses_a_negative_quantity(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    response = client_for(rep).post(
        f"/quotes/new/?customer={customer.pk}",
        {
            "customer": customer.pk,
            "price_list": catalog["cny"].pk,
            "language": "zh-hans",
            "tax_rate": "13",
            "line-product": [catalog["crm"].pk, ""],
            "line-description": ["", ""],
            "line-quantity": ["-2", "1"],
            "line-price": ["", ""],
            "line-discount": ["0", "0"],
        },
    )
    assert response.status_code == 200
    assert "The quantity must be greater than zero." in text(response)
    assert state() == before


def test_quote_form_names_the_product_missing_from_the_price_list(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    response = client_for(rep).post(
        "/quotes/new/",
        {
            "customer": customer.pk,
            "price_list": catalog["usd"].pk,
            "language": "en",
            "line-product": [catalog["svc"].pk],
            "line-quantity": ["1"],
            "line-price": [""],
            "line-discount": ["0"],
        },
    )
    assert "“实施服务” has no price in the price list “Export (USD)”." in text(response)
    assert state() == before


def test_quote_created_from_the_form_and_taken_through_its_steps(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    client = client_for(rep)
    response = client.post(
        "/quotes/new/",
        {
            "customer": customer.pk,
            "price_list": catalog["cny"].pk,
            "language": "zh-hans",
            "tax_rate": "6",
            "title": "软件报价",
            "line-product": [catalog["crm"].pk, ""],
            "line-description": ["", "差旅费"],
            "line-quantity": ["1", "1"],
            "line-price": ["", "300"],
            "line-discount": ["0", "0"],
        },
    )
    quote = Quote.objects.get(title="软件报价")
    assert response.status_code == 302 and response["Location"] == f"/quotes/{quote.pk}/"
    assert (quote.subtotal, quote.tax, quote.total) == (400, 24, 424)
    page = text(client.get(f"/quotes/{quote.pk}/"))
    assert "差旅费" in page and "424.00" in page
    client.post(f"/quotes/{quote.pk}/send/")
    response = client.post(f"/quotes/{quote.pk}/accept/")
    order = SalesOrder.objects.get(quote=quote)
    assert response["Location"] == f"/orders/{order.pk}/"
    assert client.get(f"/quotes/{quote.pk}/edit/").status_code == 302  # no longer a draft
    assert order.number in text(client.get(f"/quotes/{quote.pk}/"))


def test_an_accepted_quote_names_its_order_only_to_who_may_see_orders(
    role_users: dict[str, User], catalog: dict[str, Any], user_factory: Any
) -> None:
    from kehu.users.models import Role, RolePermission

    viewer = Role.objects.create(code="quote_viewer", name_en="Quotes only", name_zh="仅报价")
    for object_type in ("customers.customer", "sales.quote"):
        RolePermission.objects.create(role=viewer, object_type=object_type, actions=["view"], scope="all")
    reader = user_factory(username="reader", roles=["quote_viewer"])
    rep = role_users["rep"]
    quote = sent_quote(rep, catalog, customer=customer_of(rep))
    client_for(rep).post(f"/quotes/{quote.pk}/accept/")
    order = SalesOrder.objects.get(quote=quote)
    page = text(client_for(reader).get(f"/quotes/{quote.pk}/"))
    assert quote.number in page and order.number not in page and f"/orders/{order.pk}/" not in page


def test_accept_says_when_the_deal_was_not_moved(
    role_users: dict[str, User], catalog: dict[str, Any], user_factory: Any
) -> None:
    from kehu.sales import services
    from kehu.users.models import Role, RolePermission

    desk = Role.objects.create(code="desk", name_en="Desk", name_zh="台")
    for object_type, actions in {
        "customers.customer": ["view"],
        "sales.opportunity": ["view"],
        "sales.quote": ["view", "change"],
        "sales.salesorder": ["view", "add"],
    }.items():
        RolePermission.objects.create(role=desk, object_type=object_type, actions=actions, scope="all")
    clerk = user_factory(username="clerk", roles=["desk"])
    rep = role_users["rep"]
    customer = customer_of(rep)
    opp = services.create_opportunity(actor=rep, data={"name": "商机", "customer": customer})
    quote = sent_quote(rep, catalog, customer=customer, opportunity=opp)
    response = client_for(clerk).post(f"/quotes/{quote.pk}/accept/", follow=True)
    assert "The deal was not moved to won" in text(response)
    assert SalesOrder.objects.filter(quote=quote).exists()


def test_quote_pdf_page(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    quote = quote_for(role_users["rep"], catalog)
    response = client_for(role_users["rep"]).get(f"/quotes/{quote.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert client_for(role_users["rep_south"]).get(f"/quotes/{quote.pk}/pdf/").status_code == 404


def test_contract_form_refuses_an_end_before_the_start(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = customer_of(rep)
    before = state()
    response = client_for(rep).post(
        f"/contracts/new/?customer={customer.pk}",
        {
            "title": "服务合同",
            "kind": "sales",
            "customer": customer.pk,
            "status": "draft",
            "start_date": "2026-03-01",
            "end_date": "2026-02-01",
            "value": "1000",
            "currency": "CNY",
        },
    )
    assert response.status_code == 200
    assert "The contract cannot end before it starts." in text(response)
    assert state() == before


def test_payment_form_refuses_more_than_the_open_amount(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    before = state()
    response = client_for(role_users["finance"]).post(
        f"/payments/new/?order={order.pk}", {"status": "received", "amount": "999"}
    )
    assert (
        f"The payment (¥999.00) is more than is left to plan or collect on {order.number}: ¥259.90 of ¥259.90 "
        "(received ¥0.00, planned ¥0.00)."
    ) in text(response)
    assert state() == before


def test_payment_form_on_a_cancelled_order_is_refused(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    order = accepted_order(role_users["rep"], catalog)
    finance = client_for(role_users["finance"])
    documents.set_order_status(actor=role_users["finance"], order=order, status="cancelled")
    assert "/payments/new/?order=" not in text(finance.get(f"/orders/{order.pk}/"))
    before = state()
    for response in (
        finance.get(f"/payments/new/?order={order.pk}"),
        finance.post(f"/payments/new/?order={order.pk}", {"status": "received", "amount": "1"}),
    ):
        assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert state() == before
    page = text(finance.get(f"/orders/{order.pk}/"))
    assert f"Order {order.number} is cancelled; it takes no payments." in page


def test_order_and_contract_pages_show_the_sale_collected_once(
    role_users: dict[str, User], deal: dict[str, Any]
) -> None:
    order, contract = deal["order"], deal["contract"]  # ¥259.90: ¥100 received and ¥50 planned on the order
    finance = role_users["finance"]
    documents.create_payment(actor=finance, data={"contract": contract, "amount": "20", "status": "received"})
    client = client_for(finance)
    for url in (f"/orders/{order.pk}/", f"/contracts/{contract.pk}/"):
        page = text(client.get(url))
        assert "<dd>120.00</dd>" in page and ">139.90</dd>" in page, url  # received, outstanding
        assert len(re.findall(r'href="/payments/\d+/"', page)) == 3, url  # every payment of the sale
    order_page = text(client.get(f"/orders/{order.pk}/"))
    assert f"on {contract.number}" in order_page and ">89.90</dd>" in order_page  # not yet planned
    contract_page = text(client.get(f"/contracts/{contract.pk}/"))
    assert f"on {order.number}" in contract_page
    assert f"This contract collects the money of order {order.number}" in contract_page
    # the contract's status badge stays on one line next to its long title
    assert 'class="badge-stage text-nowrap flex-shrink-0 status-draft"' in order_page
    form = text(client.get(f"/payments/new/?contract={contract.pk}"))
    assert "Left to plan or collect: 89.90 CNY of 259.90 (received 120.00, planned 50.00)." in form


def test_amounts_are_grouped_by_thousands_in_lists_and_pages(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    rep, finance = role_users["rep"], role_users["finance"]
    quote = quote_for(rep, catalog, lines=[{"product": catalog["crm"], "quantity": "2000"}])  # 226,000.00 with tax
    documents.send_quote(actor=rep, quote=quote)
    order = documents.accept_quote(actor=rep, quote=quote).order
    documents.create_payment(actor=finance, data={"sales_order": order, "amount": "126000", "status": "received"})
    client = client_for(finance)
    assert "126,000.00" in text(client.get("/payments/"))
    assert "226,000.00" in text(client.get("/orders/"))
    assert "226,000.00" in text(client.get("/quotes/"))
    page = text(client.get(f"/orders/{order.pk}/"))
    assert "226,000.00" in page and "126,000.00" in page and "100,000.00" in page
    assert "126000.00" not in text(client.get("/payments/"))


def test_new_quote_for_a_deal_without_a_price_list_in_its_currency(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    from kehu.sales import services

    rep = role_users["rep"]
    opp = services.create_opportunity(
        actor=rep,
        data={"name": "Berlin rollout", "customer": customer_of(rep), "currency": "EUR"},
        lines=[{"product": catalog["crm"], "quantity": 1, "unit_price": "120"}],
    )
    page = text(client_for(rep).get(f"/quotes/new/?opportunity={opp.pk}", follow=True))
    assert "There is no active price list in EUR, the currency of the deal “Berlin rollout”." in page
    price_lists = re.search(r'<select name="price_list".*?</select>', page, re.S)
    assert price_lists is not None and '<option value="" selected>' in price_lists.group(0)  # none preselected


def test_quote_editor_keeps_a_line_whose_product_is_no_longer_sold(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    from kehu.sales.services import catalogue

    rep = role_users["rep"]
    quote = quote_for(rep, catalog, lines=[{"product": catalog["svc"], "quantity": 1}])
    catalogue.update_product(actor=role_users["admin"], product=catalog["svc"], values={"active": False})
    page = text(client_for(rep).get(f"/quotes/{quote.pk}/edit/"))
    assert f'value="{catalog["svc"].pk}" selected' in page and "no longer sold" in page


def test_marking_a_payment_received(role_users: dict[str, User], deal: dict[str, Any]) -> None:
    payment = deal["overdue"]
    client_for(role_users["finance"]).post(
        f"/payments/{payment.pk}/receive/", {"method": "alipay", "reference": "2026-77", "received_on": ""}
    )
    payment.refresh_from_db()
    deal["order"].refresh_from_db()
    assert (payment.status, payment.method) == ("received", "alipay")
    assert deal["order"].paid_amount == 150


def test_overdue_flag_and_filter(role_users: dict[str, User], deal: dict[str, Any]) -> None:
    client = client_for(role_users["finance"])
    response = client.get("/payments/?overdue=1")
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "Overdue" in page and f"/payments/{deal['overdue'].pk}/" in page
    assert f"/payments/{deal['received'].pk}/" not in page
    assert "Overdue" in text(client.get(f"/orders/{deal['order'].pk}/"))


def test_contract_file_upload_and_gated_download(
    role_users: dict[str, User], deal: dict[str, Any], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    contract = deal["contract"]
    rep = client_for(role_users["rep"])
    bad = rep.post(f"/contracts/{contract.pk}/files/", {"file": SimpleUploadedFile("x.exe", b"MZ")}, follow=True)
    assert "Upload a PDF, Word (.docx), Excel (.xlsx), PNG or JPEG file." in text(bad)
    rep.post(f"/contracts/{contract.pk}/files/", {"file": SimpleUploadedFile("签字版.pdf", b"%PDF-1.4 ok")})
    item = contract.files.get()
    url = f"/contracts/{contract.pk}/files/{item.pk}/"
    response = rep.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 ok"
    assert "attachment" in response["Content-Disposition"]
    for username in ("agent", "rep_south"):
        assert client_for(role_users[username]).get(url).status_code == 404
    assert client_for(role_users["finance"]).get(url).status_code == 200


# --------------------------------------------------------------------------- G1 and scope on every path


def test_service_agent_sees_no_transactions_anywhere(role_users: dict[str, User], deal: dict[str, Any]) -> None:
    agent = client_for(role_users["agent"])
    for url in (
        f"/orders/{deal['order'].pk}/",
        f"/payments/{deal['received'].pk}/",
        f"/quotes/{deal['quote'].pk}/",
        f"/quotes/{deal['quote'].pk}/pdf/",
        f"/contracts/{deal['contract'].pk}/",
        f"/payments/new/?order={deal['order'].pk}",
        "/quotes/new/",
    ):
        assert agent.get(url).status_code == 404, url
    for url in ("/orders/", "/payments/", "/quotes/", "/contracts/"):
        page = text(agent.get(url))
        assert deal["order"].number not in page and "/payments/" + str(deal["received"].pk) not in page
    home = text(agent.get("/"))
    assert "/orders/" not in home and "/payments/" not in home  # no sidebar entries
    customer = text(agent.get(f"/customers/{deal['order'].customer_id}/"))
    assert 'id="transactions"' not in customer
    assert deal["order"].number not in customer and deal["quote"].number not in customer  # nor in its timeline
    found = text(agent.get("/search/", {"q": deal["order"].number}))  # the page repeats the query itself
    assert f"/orders/{deal['order'].pk}/" not in found and f"/quotes/{deal['quote'].pk}/" not in found


def test_rep_sees_own_finance_sees_all(
    role_users: dict[str, User], catalog: dict[str, Any], deal: dict[str, Any]
) -> None:
    other = accepted_order(role_users["rep_south"], catalog)
    rep, finance = client_for(role_users["rep"]), client_for(role_users["finance"])
    assert rep.get(f"/orders/{deal['order'].pk}/").status_code == 200
    assert rep.get(f"/orders/{other.pk}/").status_code == 404
    listing = text(rep.get("/orders/"))
    assert deal["order"].number in listing and other.number not in listing
    listing = text(finance.get("/orders/"))
    assert deal["order"].number in listing and other.number in listing
    page = text(rep.get(f"/customers/{deal['order'].customer_id}/"))
    assert 'id="transactions"' in page and deal["order"].number in page


def test_lists_query_count_is_fixed(role_users: dict[str, User], catalog: dict[str, Any], deal: dict[str, Any]) -> None:
    client = client_for(role_users["finance"])

    def count(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = ["/orders/", "/payments/", "/contracts/", "/quotes/"]
    before = {url: count(url) for url in urls}
    for _i in range(3):
        order = accepted_order(role_users["rep"], catalog)
        documents.create_payment(
            actor=role_users["finance"], data={"sales_order": order, "amount": "1", "due_date": dt.date(2026, 1, 1)}
        )
        documents.create_contract(
            actor=role_users["finance"], data={"sales_order": order, "start_date": dt.date(2026, 1, 1)}
        )
    assert {url: count(url) for url in urls} == before
    assert Payment.objects.count() == 5 and Contract.objects.count() == 4


def test_catalogue_settings_pages(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    admin = client_for(role_users["admin"])
    assert "CRM-STD" in text(admin.get("/settings/products/"))
    response = admin.post("/settings/products/new/", {"name": "重复", "sku": "crm-std", "unit": "套", "active": "on"})
    assert "Another product already has the SKU “crm-std”." in text(response)
    response = admin.post(
        f"/settings/price-lists/{catalog['cny'].pk}/",
        {
            "name": catalog["cny"].name,
            "currency": "CNY",
            "is_default": "on",
            "active": "on",
            f"price_{catalog['odd'].pk}": "-5",
        },
    )
    assert "The price cannot be negative." in text(response)
    for username in ("rep", "agent", "finance"):
        assert client_for(role_users[username]).get("/settings/products/").status_code == 404
        assert client_for(role_users[username]).get("/settings/price-lists/").status_code == 404


def test_new_quote_from_an_opportunity_is_prefilled(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    from kehu.sales import services

    rep = role_users["rep"]
    customer = customer_of(rep)
    opp = services.create_opportunity(
        actor=rep,
        data={"name": "年度采购", "customer": customer},
        lines=[{"product": catalog["svc"], "quantity": 4, "unit_price": "50", "discount": 0}],
    )
    client = client_for(rep)
    assert "New quote" in text(client.get(f"/opportunities/{opp.pk}/"))
    page = text(client.get(f"/quotes/new/?opportunity={opp.pk}"))
    assert "年度采购" in page and customer.name in page and f'value="{catalog["svc"].pk}" selected' in page
    assert client_for(role_users["rep_south"]).get(f"/quotes/new/?opportunity={opp.pk}").status_code == 404


def test_deal_products_editor_names_the_currency_without_a_price(
    role_users: dict[str, User], catalog: dict[str, Any]
) -> None:
    from kehu.sales import services

    rep = role_users["rep"]
    opp = services.create_opportunity(
        actor=rep, data={"name": "Berlin rollout", "customer": customer_of(rep), "currency": "EUR"}
    )
    before = state()
    response = client_for(rep).post(
        f"/opportunities/{opp.pk}/products/",
        {"line-product": [catalog["svc"].pk], "line-quantity": ["1"], "line-price": [""], "line-discount": ["0"]},
    )
    assert response.status_code == 200
    assert "There is no active price list in EUR, so “实施服务” has no price; enter the unit price." in text(response)
    assert state() == before and not opp.lines.exists()


def test_a_payment_named_by_a_hidden_amount_is_named_by_its_number_instead(
    role_users: dict[str, User], deal: dict[str, Any]
) -> None:
    """A payment's name is its amount: a role that hides the amount sees "Payment #id" in timelines and the feed."""
    from rest_framework.test import APIClient

    from kehu.users.models import Role, RolePermission

    rep, received = role_users["rep"], deal["received"]
    customer_page = f"/customers/{deal['order'].customer_id}/"
    assert "100.00 CNY" in text(client_for(rep).get(customer_page))
    grant = RolePermission.objects.get(role=Role.objects.get(code="sales_rep"), object_type="sales.payment")
    grant.field_rules = {**grant.field_rules, "amount": "hidden"}
    grant.save()
    page = text(client_for(rep).get(customer_page))
    panel = page.split('id="transactions"', 1)[1].split('<div class="card ', 1)[0]
    assert "100.00" not in panel and f"Payment #{received.pk}" in panel
    assert not re.search(rf'href="/payments/{received.pk}/">\s*100\.00', page)  # the timeline names it by number
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=rep.pk))  # a new request reads the role's rules afresh
    rows = api.get("/api/v1/events/?page_size=200").json()["results"]
    names = {e["object_repr"] for e in rows if e["object_type"] == "sales.payment" and e["object_id"] == received.pk}
    assert names == {f"Payment #{received.pk}"}
    # finance still reads the amount
    assert "100.00 CNY" in text(client_for(role_users["finance"]).get(customer_page))


def test_add_payment_is_offered_only_while_money_is_left(role_users: dict[str, User], catalog: dict[str, Any]) -> None:
    rep, finance = role_users["rep"], role_users["finance"]
    order = accepted_order(rep, catalog)
    page = f"/orders/{order.pk}/"
    assert f"/payments/new/?order={order.pk}" in text(client_for(finance).get(page))
    left = documents.collection(order).left
    documents.create_payment(
        actor=finance, data={"sales_order": order, "amount": str(left), "due_date": timezone.localdate()}
    )
    assert f"/payments/new/?order={order.pk}" not in text(client_for(finance).get(page))
