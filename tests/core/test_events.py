"""The event log: one Event per change in the change's own transaction, nothing for a rolled-back change,
side effects only after commit, old → new values, stage changes, and stale edits refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from kehu.core import events
from kehu.core.models import Event
from kehu.core.services import StaleEdit
from kehu.customers import services as customer_services
from kehu.customers.models import Customer, LifecycleChange
from kehu.users.models import User


class Boom(Exception):
    pass


def events_of(obj: Any) -> list[Event]:
    return list(Event.objects.filter(object_id=obj.pk, content_type__model=obj._meta.model_name).order_by("id"))


@pytest.mark.django_db
def test_create_writes_one_created_event_with_new_values(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = customer_services.create_customer(actor=rep, data={"name": "杭州云帆科技", "city": "杭州"})
    [event] = events_of(customer)
    assert (event.verb, event.actor, event.object_repr) == ("created", rep, "杭州云帆科技")
    assert event.changes["name"] == [None, "杭州云帆科技"]
    assert event.changes["city"] == [None, "杭州"]
    assert event.changes["owner"] == [None, rep.pk]
    assert "credit_limit" not in event.changes  # empty values are not listed


@pytest.mark.django_db
def test_update_writes_one_event_with_old_and_new_of_changed_fields_only(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="旧名字", city="上海")
    changes = customer_services.update_customer(
        actor=rep, customer=customer, values={"name": "新名字", "city": "上海", "province": "上海市"}
    )
    assert changes == {"name": ["旧名字", "新名字"], "province": ["", "上海市"]}
    created, updated = events_of(customer)
    assert updated.verb == "updated" and updated.actor == rep
    assert updated.changes == changes
    # saving the same values again is no change: no event, no version bump
    version = Customer.objects.get(pk=customer.pk).version
    assert customer_services.update_customer(actor=rep, customer=customer, values={"name": "新名字"}) == {}
    assert len(events_of(customer)) == 2
    assert Customer.objects.get(pk=customer.pk).version == version


@pytest.mark.django_db
def test_rolled_back_service_call_leaves_no_event_and_no_change(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="回滚测试")
    before = Event.objects.count()
    with pytest.raises(Boom), transaction.atomic():
        customer_services.update_customer(actor=rep, customer=customer, values={"name": "不该保存"})
        customer_services.create_customer(actor=rep, data={"name": "也不该保存"})
        raise Boom
    assert Event.objects.count() == before
    assert Customer.objects.get(pk=customer.pk).name == "回滚测试"
    assert not Customer.objects.filter(name="也不该保存").exists()


@pytest.mark.django_db
def test_failed_validation_leaves_no_event(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="校验失败")
    before = Event.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - a ValidationError from the model's own validation
        customer_services.update_customer(actor=rep, customer=customer, values={"name": "x" * 201})
    assert Event.objects.count() == before
    assert Customer.objects.get(pk=customer.pk).name == "校验失败"


@pytest.mark.django_db
def test_after_commit_side_effect_runs_on_commit_only(
    role_users: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    """Callbacks registered in a block that rolls back are dropped; the others run when the outermost
    transaction commits (the fixture stands in for that commit, so the test stays non-transactional and
    keeps the roles and pick lists the migrations seeded)."""
    rep = role_users["rep"]
    sent: list[str] = []

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        c = customer_services.create_customer(actor=rep, data={"name": "回滚的客户"})
        events.after_commit(lambda: sent.append(f"welcome {c.name}"))
        raise Boom
    assert callbacks == [] and sent == []
    assert not Customer.objects.filter(name="回滚的客户").exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            c = customer_services.create_customer(actor=rep, data={"name": "提交的客户"})
            events.after_commit(lambda: sent.append(f"welcome {c.name}"))
        assert sent == []  # not before the commit
    assert len(callbacks) == 1
    assert sent == ["welcome 提交的客户"]


@pytest.mark.django_db
def test_stage_change_is_its_own_event_with_history(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="阶段客户")
    assert customer.lifecycle_stage == "prospect"
    customer_services.change_stage(actor=rep, customer=customer, stage="new")
    event = events_of(customer)[-1]
    assert event.verb == "stage_changed"
    assert event.changes["lifecycle_stage"] == ["prospect", "new"]
    history = list(LifecycleChange.objects.filter(customer=customer).values_list("from_stage", "to_stage"))
    assert history == [("", "prospect"), ("prospect", "new")]
    # the same stage again changes nothing
    assert customer_services.change_stage(actor=rep, customer=customer, stage="new") == {}
    assert events_of(customer)[-1].pk == event.pk


@pytest.mark.django_db
def test_stale_edit_is_refused_and_nothing_saved(role_users: dict[str, User], customer_factory: Any) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="并发客户")
    loaded_version = Customer.objects.get(pk=customer.pk).version
    # someone else saves first
    other = Customer.objects.get(pk=customer.pk)
    customer_services.update_customer(
        actor=rep, customer=other, values={"city": "苏州"}, expected_version=loaded_version
    )
    before = Event.objects.count()
    mine = Customer.objects.get(pk=customer.pk)
    with pytest.raises(StaleEdit):
        customer_services.update_customer(
            actor=rep, customer=mine, values={"name": "我的改动"}, expected_version=loaded_version
        )
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.name, saved.city, saved.version) == ("并发客户", "苏州", loaded_version + 1)
    assert Event.objects.count() == before
    # with the current version the edit goes through
    customer_services.update_customer(
        actor=rep, customer=mine, values={"name": "我的改动"}, expected_version=saved.version
    )
    assert Customer.objects.get(pk=customer.pk).name == "我的改动"


@pytest.mark.django_db
def test_contact_events_also_belong_to_the_customer_timeline(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="时间线客户")
    contact = contact_factory(owner=rep, customer=customer, name="赵敏")
    created = events_of(contact)[0]
    assert created.verb == "created"
    assert (created.parent_type.model, created.parent_id) == ("customer", customer.pk)


# --------------------------------------------------------------------------- the change feed and commit order


@pytest.mark.django_db
def test_txid_is_the_writing_transaction_on_postgresql_and_empty_on_sqlite(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    """The database fills Event.txid in (Django sends DEFAULT), for a service's event and a bulk insert alike."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    customer = customer_factory(owner=role_users["rep"], name="事务号客户")
    with transaction.atomic():
        customer_services.update_customer(actor=role_users["rep"], customer=customer, values={"city": "宁波"})
        Event.objects.bulk_create(
            [Event(content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk, verb="updated")]
        )
        rows = list(Event.objects.filter(object_id=customer.pk, content_type__model="customer").order_by("-id")[:2])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                current = cursor.fetchone()[0]
            assert [e.txid for e in rows] == [current, current]
        else:
            assert [e.txid for e in rows] == [None, None]


@pytest.mark.serial  # a transactional test flushes the database at its end: it runs apart from the rest
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite serialises writers: ids are in commit order there",
)
@pytest.mark.django_db(transaction=True)
def test_feed_never_skips_an_event_whose_transaction_commits_late(superuser: User) -> None:
    """PostgreSQL: transaction A writes an event and stays open; B writes a later event and commits. A reader
    following the feed must not get B's event before A has ended (it would move its cursor past A's for good),
    and once A commits it gets both, A's first."""
    import threading
    import time

    from django.db import connection
    from rest_framework.test import APIClient

    first = customer_services.create_customer(actor=superuser, data={"name": "先开始的事务"})
    second = customer_services.create_customer(actor=superuser, data={"name": "先提交的事务"})
    api = APIClient()
    api.force_authenticate(superuser)

    def read(after: str) -> tuple[list[dict[str, Any]], str]:
        rows: list[dict[str, Any]] = []
        url: str | None = "/api/v1/events/?page_size=3" + (f"&after={after}" if after else "")
        while url:
            body = api.get(url).json()
            rows += body["results"]
            url = body["next"]
        return rows, (rows[-1]["cursor"] if rows else after)

    _seen, cursor = read("")
    written = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            with transaction.atomic():
                customer_services.update_customer(actor=superuser, customer=first, values={"city": "慢"})
                written.set()
                release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def fast() -> None:
        try:
            customer_services.update_customer(actor=superuser, customer=second, values={"city": "快"})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=slow)
    a.start()
    try:
        assert written.wait(30)
        b = threading.Thread(target=fast)
        b.start()
        b.join(30)
        assert not errors
        late = Event.objects.get(object_id=second.pk, content_type__model="customer", verb="updated")
        # B's event is committed (a reader by id alone would take it, move past A's lower id and never see it)
        rows, cursor = read(cursor)
        assert late.id not in [e["id"] for e in rows], "B's event must wait for A, which began first"
    finally:
        release.set()
        a.join(30)
    assert not errors
    early = Event.objects.get(object_id=first.pk, content_type__model="customer", verb="updated")
    assert early.id < late.id and early.txid is not None and late.txid is not None and early.txid < late.txid
    got: list[int] = []
    deadline = time.monotonic() + 120  # other sessions of this server may hold the horizon back for a moment
    while late.id not in got and time.monotonic() < deadline:
        rows, cursor = read(cursor)
        got += [e["id"] for e in rows]
        if late.id not in got:
            time.sleep(0.2)
    assert [i for i in got if i in (early.id, late.id)] == [early.id, late.id]
