"""Follow-up and task services: links filled in, the gate on every linked record, assignment scope, dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.activities import services
from kehu.activities.models import Activity, Task
from kehu.core.models import Event
from kehu.customers import services as customer_services
from kehu.sales import services as sales_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def test_logging_on_a_contact_fills_its_customer_and_records_an_event(
    users: dict[str, User], records: dict[str, Any]
) -> None:
    rep = users["rep"]
    a = services.log_activity(actor=rep, data={"kind": "call", "subject": "询价", "contact": records["contact"]})
    assert (a.contact, a.customer, a.owner, a.team) == (records["contact"], records["customer"], rep, rep.team)
    assert a.occurred_at is not None
    assert Event.objects.filter(object_id=a.pk, verb="created", content_type__model="activity").exists()


def test_logging_on_an_opportunity_fills_its_customer_and_updates_its_next_step(
    users: dict[str, User], records: dict[str, Any]
) -> None:
    opp = records["opportunity"]
    a = services.log_activity(
        actor=users["rep"],
        data={
            "kind": "meeting",
            "subject": "方案评审",
            "opportunity": opp,
            "next_step": "发送报价",
            "next_follow_up": timezone.localdate() + dt.timedelta(days=3),
        },
    )
    assert a.customer == records["customer"]
    opp.refresh_from_db()
    assert opp.next_step == "发送报价"
    assert Event.objects.filter(object_id=opp.pk, content_type__model="opportunity", verb="updated").exists()


def test_a_user_who_may_not_change_the_deal_logs_without_touching_it(
    users: dict[str, User], records: dict[str, Any]
) -> None:
    opp = records["opportunity"]
    # marketing sees every opportunity but may not change one
    services.log_activity(
        actor=users["marketing"], data={"subject": "活动邀请", "opportunity": opp, "next_step": "寄送资料"}
    )
    opp.refresh_from_db()
    assert opp.next_step == ""


def test_logging_on_a_converted_lead_fills_the_customer_and_contact(users: dict[str, User]) -> None:
    rep = users["rep"]
    lead = sales_services.create_lead(actor=rep, data={"name": "王芳", "company": "苏州精工"})
    customer, contact, _opp = sales_services.convert(actor=rep, lead=lead)
    lead.refresh_from_db()
    a = services.log_activity(actor=rep, data={"subject": "回访", "lead": lead})
    assert (a.lead, a.customer, a.contact) == (lead, customer, contact)


def test_a_follow_up_needs_a_record_and_a_subject(users: dict[str, User], records: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        services.log_activity(actor=users["rep"], data={"subject": "无关联"})
    assert "__all__" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.log_activity(actor=users["rep"], data={"subject": "", "customer": records["customer"]})
    assert "subject" in err.value.message_dict
    assert not Activity.objects.exists()


def test_cannot_log_on_a_record_one_cannot_see(users: dict[str, User], records: dict[str, Any]) -> None:
    before = Event.objects.count()
    with pytest.raises(ValidationError) as err:
        services.log_activity(actor=users["rep_south"], data={"subject": "窥探", "customer": records["customer"]})
    assert "customer" in err.value.message_dict
    assert not Activity.objects.exists() and Event.objects.count() == before


def test_contact_of_another_customer_is_refused(users: dict[str, User], records: dict[str, Any]) -> None:
    other = customer_services.create_customer(actor=users["rep"], data={"name": "另一家"})
    with pytest.raises(ValidationError) as err:
        services.log_activity(
            actor=users["rep"], data={"subject": "x", "customer": other, "contact": records["contact"]}
        )
    assert "contact" in err.value.message_dict


def test_dates_next_follow_up_not_before_the_follow_up_and_not_in_the_future(
    users: dict[str, User], records: dict[str, Any]
) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as err:
        services.log_activity(
            actor=users["rep"],
            data={
                "subject": "x",
                "customer": records["customer"],
                "occurred_at": now - dt.timedelta(days=3),
                "next_follow_up": timezone.localdate(now - dt.timedelta(days=5)),
            },
        )
    assert "next_follow_up" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.log_activity(
            actor=users["rep"],
            data={"subject": "x", "customer": records["customer"], "occurred_at": now + dt.timedelta(days=2)},
        )
    assert "occurred_at" in err.value.message_dict
    # a past follow-up with a follow-up date between then and now is fine
    services.log_activity(
        actor=users["rep"],
        data={
            "subject": "补录",
            "customer": records["customer"],
            "occurred_at": now - dt.timedelta(days=3),
            "next_follow_up": timezone.localdate(now - dt.timedelta(days=1)),
        },
    )


def test_update_and_delete_go_through_the_gate(users: dict[str, User], records: dict[str, Any]) -> None:
    a = services.log_activity(actor=users["rep"], data={"subject": "初次沟通", "customer": records["customer"]})
    services.update_activity(actor=users["rep"], activity=a, values={"subject": "初次电话沟通", "outcome": "positive"})
    a.refresh_from_db()
    assert (a.subject, a.outcome) == ("初次电话沟通", "positive")
    with pytest.raises(PermissionDenied):
        services.update_activity(actor=users["rep_south"], activity=a, values={"subject": "改"})
    with pytest.raises(ValidationError):
        services.update_activity(actor=users["rep"], activity=a, values={"customer": None})
    with pytest.raises(PermissionDenied):  # reps may not delete
        services.delete_activity(actor=users["rep"], activity=a)
    services.delete_activity(actor=users["east_manager"], activity=a)
    assert not Activity.objects.exists()
    trace = Event.objects.get(verb="deleted", content_type__model="activity")
    assert trace.parent_id == records["customer"].pk


# --------------------------------------------------------------------------- tasks


def test_a_manager_assigns_a_task_to_a_rep_in_scope(users: dict[str, User], records: dict[str, Any]) -> None:
    due = timezone.localdate() + dt.timedelta(days=2)
    task = services.create_task(
        actor=users["manager"],
        data={"title": "准备报价", "due_date": due, "priority": "high", "opportunity": records["opportunity"]},
        owner=users["rep"],
    )
    assert (task.owner, task.team, task.assigned_by) == (users["rep"], users["rep"].team, users["manager"])
    assert task.customer == records["customer"] and task.status == Task.Status.OPEN


def test_assignment_outside_scope_is_refused(users: dict[str, User], records: dict[str, Any]) -> None:
    # a rep may not assign at all; the east manager may not assign to the south rep
    with pytest.raises(ValidationError) as err:
        services.create_task(actor=users["rep"], data={"title": "帮我打电话"}, owner=users["rep_sh"])
    assert "owner" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.create_task(actor=users["east_manager"], data={"title": "跨区"}, owner=users["rep_south"])
    assert "owner" in err.value.message_dict
    # the assignee must be able to see the task's record
    with pytest.raises(ValidationError) as err:
        services.create_task(
            actor=users["manager"], data={"title": "看客户", "customer": records["customer"]}, owner=users["rep_south"]
        )
    assert "owner" in err.value.message_dict
    # the record is named in the user's language, not by a field key
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        services.create_task(
            actor=users["manager"], data={"title": "看客户", "customer": records["customer"]}, owner=users["rep_south"]
        )
    assert "客户" in err.value.message_dict["owner"][0] and "customer" not in err.value.message_dict["owner"][0]
    assert not Task.objects.exists()


def test_task_bad_input(users: dict[str, User]) -> None:
    with pytest.raises(ValidationError) as err:
        services.create_task(actor=users["rep"], data={"title": ""})
    assert "title" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.create_task(
            actor=users["rep"], data={"title": "x", "due_date": timezone.localdate() - dt.timedelta(days=1)}
        )
    assert "due_date" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.create_task(actor=users["rep"], data={"title": "x", "priority": "whenever"})
    assert "priority" in err.value.message_dict
    assert not Task.objects.exists()


def test_complete_and_reopen(users: dict[str, User]) -> None:
    rep = users["rep"]
    task = services.create_task(actor=rep, data={"title": "回电"})
    services.complete_task(actor=rep, task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_at is not None
    assert services.complete_task(actor=rep, task=task) == {}
    services.reopen_task(actor=rep, task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.completed_at is None
    with pytest.raises(PermissionDenied):
        services.complete_task(actor=users["rep_south"], task=task)


def test_reassigning_follows_the_same_rules(users: dict[str, User]) -> None:
    task = services.create_task(actor=users["east_manager"], data={"title": "拜访"}, owner=users["rep"])
    services.update_task(actor=users["east_manager"], task=task, values={"owner": users["rep_sh"]})
    task.refresh_from_db()
    assert task.owner == users["rep_sh"] and task.team == users["rep_sh"].team
    with pytest.raises(ValidationError):
        services.update_task(actor=users["east_manager"], task=task, values={"owner": users["rep_south"]})


def test_delete_task(users: dict[str, User]) -> None:
    task = services.create_task(actor=users["rep"], data={"title": "删掉"})
    with pytest.raises(PermissionDenied):
        services.delete_task(actor=users["rep"], task=task)
    services.delete_task(actor=users["east_manager"], task=task)
    assert not Task.objects.exists()
