"""`kehu demo`: a small demo company, loaded twice — the second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io

import phonenumbers
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kehu.activities.models import Activity, Task
from kehu.core import search
from kehu.core.demo.org import CUSTOM_FIELDS, DEMO_PASSWORD, LOGINS
from kehu.core.demo.people import pinyin
from kehu.core.models import CustomFieldDefinition, Event, SearchEntry
from kehu.customers.models import Contact, ContactChannel, Customer, LifecycleChange
from kehu.sales.models import Lead, Opportunity, StageHistory, Target
from kehu.users.models import Team, User

SIZES = {"customers": 80, "contacts": 200, "leads": 50, "users": 14, "opportunities": 120}

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **SIZES)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        User,
        Team,
        Customer,
        Contact,
        ContactChannel,
        Lead,
        LifecycleChange,
        Event,
        SearchEntry,
        CustomFieldDefinition,
        Opportunity,
        StageHistory,
        Activity,
        Task,
        Target,
    ]
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture
def demo() -> str:
    return run_demo()


def test_demo_creates_the_requested_sizes_and_a_second_run_creates_nothing(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = counts()
    assert first["Customer"] == SIZES["customers"]
    assert first["Contact"] == SIZES["contacts"]
    assert first["Lead"] == SIZES["leads"]
    assert first["User"] == SIZES["users"]
    assert first["Team"] == 9
    assert first["CustomFieldDefinition"] == len(CUSTOM_FIELDS)
    assert first["Opportunity"] == SIZES["opportunities"]
    assert first["Activity"] > 0 and first["Task"] > 0 and first["Target"] > 0
    assert "http://127.0.0.1:8000/" in demo
    assert DEMO_PASSWORD in demo

    monkeypatch.setenv("KEHU_ADDR", "192.168.1.20:8800")  # `KEHU_ADDR=… make demo` serves there
    again = run_demo()
    assert "http://192.168.1.20:8800/" in again

    assert counts() == first
    assert "nothing new was created" in again


def test_every_demo_login_can_log_in(demo: str) -> None:
    for username, *_rest in LOGINS:
        client = Client()
        response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert client.session.get("_auth_user_id") == str(User.objects.get(username=username).pk)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.roles.filter(code="administrator").exists()
    manager = User.objects.get(username="manager")
    assert manager.team.name == "华东区" and manager.roles.filter(code="sales_manager").exists()
    assert User.objects.get(username="rep2").team.name == "华南区"


def test_search_finds_a_demo_contact_by_pinyin(demo: str) -> None:
    contact = Contact.objects.filter(name__regex=r"^[\u4e00-\u9fff]{2,3}$").order_by("id").first()
    assert contact is not None
    admin = User.objects.get(username="admin")

    hits = search.search(admin, pinyin(contact.name), types=["customers.contact"], limit=500)

    assert contact.pk in {h.object_id for h in hits}


def test_every_record_has_a_search_entry(demo: str) -> None:
    for model in (Customer, Contact, Lead, Opportunity):
        ct = ContentType.objects.get_for_model(model)
        indexed = set(SearchEntry.objects.filter(content_type=ct).values_list("object_id", flat=True))
        assert indexed == set(model.objects.values_list("pk", flat=True)), model.__name__


def test_records_look_like_a_year_of_use(demo: str) -> None:
    now = timezone.now()
    # history spread over the past year, never in the future
    oldest = Event.objects.filter(verb="created").order_by("created_at").first().created_at
    assert now - oldest > dt.timedelta(days=180)
    assert not Event.objects.filter(created_at__gt=now).exists()
    # every customer has its lifecycle history, ending in its current stage
    for c in Customer.objects.prefetch_related("lifecycle_changes"):
        changes = list(c.lifecycle_changes.all())
        assert changes and changes[-1].to_stage == c.lifecycle_stage
        assert c.team_id == c.owner.team_id
    # phone numbers are valid, e-mails normalised
    for ch in ContactChannel.objects.filter(kind="phone"):
        assert phonenumbers.is_valid_number(phonenumbers.parse(ch.normalized))
    for ch in ContactChannel.objects.filter(kind="email"):
        assert ch.normalized == ch.normalized.lower() and "@" in ch.normalized
    # leads in every status; disqualified ones say why, converted ones point at their customer
    assert set(Lead.objects.values_list("status", flat=True)) == {s for s, _l in Lead.Status.choices}
    assert not Lead.objects.filter(status="disqualified", disqualify_reason="").exists()
    converted = Lead.objects.filter(status="converted")
    assert converted.exists() and not converted.filter(converted_customer=None).exists()
    # both kinds of names, China and abroad
    assert Customer.objects.exclude(country="CN").exists() and Customer.objects.filter(country="CN").exists()
    assert Contact.objects.filter(name__regex=r"^[A-Za-z]").exists()


def test_deals_walk_their_pipeline_and_their_history_says_so(demo: str) -> None:
    opp_ct = ContentType.objects.get_for_model(Opportunity)
    statuses = set()
    for opp in Opportunity.objects.select_related("stage").prefetch_related("stage_history", "lines"):
        statuses.add(opp.status)
        stays = list(opp.stage_history.all())
        # one stay per stage entered, each left when the next began; the last is the current stage
        assert stays[-1].stage_id == opp.stage_id and stays[-1].left_at is None
        assert all(a.left_at == b.entered_at for a, b in zip(stays, stays[1:], strict=False))
        assert opp.status == opp.stage.kind and opp.team_id == opp.owner.team_id
        assert (opp.closed_on is None) == (opp.status == "open")
        if opp.status == "lost":
            assert opp.loss_reason
        # the amount is what its products add up to
        assert opp.amount == sum(line.total for line in opp.lines.all())
        moves = Event.objects.filter(content_type=opp_ct, object_id=opp.pk, verb="stage_changed").count()
        assert moves == len(stays) - 1
    assert statuses == {"open", "won", "lost"}
    # a follow-up is about a deal (and its customer) or a lead that someone worked on
    on_deals = Activity.objects.exclude(opportunity=None)
    assert (
        on_deals.exists() and not on_deals.exclude(customer_id__in=Opportunity.objects.values("customer_id")).exists()
    )
    on_leads = Activity.objects.filter(opportunity=None)
    assert on_leads.exists() and not on_leads.filter(lead=None).exists()
    assert not on_leads.filter(lead__status="new").exists()
    # overdue and done tasks exist for "my day"
    assert Task.objects.filter(status="done").exists()
    assert Task.objects.filter(status="open", due_date__lt=timezone.localdate()).exists()


def test_transactions_are_dated_when_they_happened(demo: str) -> None:
    """Payments and contracts, and their events, carry the day of the deal or of the money, not the day the demo
    was loaded: a customer's timeline reads like the year it describes."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.sales.models import Contract, Payment

    today = timezone.localdate()
    payments = list(Payment.objects.select_related("sales_order"))
    assert payments, "the demo made no payments"
    for p in payments:
        assert timezone.localdate(p.created_at) == p.sales_order.ordered_on
        if p.received_on:
            assert timezone.localdate(p.updated_at) == p.received_on
    for model in (Payment, Contract):
        events = Event.objects.filter(content_type=ContentType.objects.get_for_model(model))
        assert events.exists()
        stale = [e for e in events if timezone.localdate(e.created_at) == today]
        recent = {p.pk for p in payments if p.received_on == today or p.sales_order.ordered_on == today}
        assert all(e.object_id in recent for e in stale) if model is Payment else not stale
