"""Stage order and the funnel: after stages are reordered or a stage is inserted, every report counts a deal
at the stages it really reached (from its stage history), not at the positions its old numbers point to.

Pipeline "Order test": A, B, C (open), Won, Lost. Deals:
    d1 stayed in A · d2 A→B · d3 A→B→C · d4 A→B→Lost · d5 A→Won
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kehu.analytics.queries import funnel
from kehu.sales import services
from kehu.sales.lists import reached_stage_q
from kehu.sales.models import Opportunity, Pipeline, Stage
from kehu.sales.services import pipelines as pipeline_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(role_users: dict[str, User]) -> dict[str, Any]:
    admin = role_users["admin"]
    pipeline = pipeline_services.create_pipeline(
        actor=admin,
        data={"name_en": "Order test", "name_zh": "顺序测试"},
        stages=[
            {"name_en": "A", "name_zh": "甲", "probability": 10, "kind": "open"},
            {"name_en": "B", "name_zh": "乙", "probability": 40, "kind": "open"},
            {"name_en": "C", "name_zh": "丙", "probability": 70, "kind": "open"},
            {"name_en": "Won", "name_zh": "赢单", "probability": 100, "kind": "won"},
            {"name_en": "Lost", "name_zh": "输单", "probability": 0, "kind": "lost"},
        ],
    )
    st = {s.name_en: s for s in Stage.objects.filter(pipeline=pipeline)}
    rep = role_users["rep"]

    def deal(name: str, *moves: str) -> Opportunity:
        opp = services.create_opportunity(actor=rep, data={"name": name, "pipeline": pipeline, "amount": "100"})
        for to in moves:
            services.move_stage(actor=rep, opp=opp, stage=st[to], loss_reason="price" if to == "Lost" else "")
        return opp

    deals = {
        "d1": deal("d1"),
        "d2": deal("d2", "B"),
        "d3": deal("d3", "B", "C"),
        "d4": deal("d4", "B", "Lost"),
        "d5": deal("d5", "Won"),
    }
    return {"pipeline": pipeline, "st": st, "deals": deals, "admin": User.objects.get(pk=admin.pk)}


def reach(setup: dict[str, Any]) -> dict[str, int]:
    today = timezone.localdate()
    f = funnel(
        User.objects.get(pk=setup["admin"].pk),
        start=today - dt.timedelta(days=1),
        end=today,
        pipeline=setup["pipeline"],
    )
    [p] = f.pipelines
    return {s.name: s.reached for s in p.stages}


def reached(setup: dict[str, Any], name: str) -> set[str]:
    stage = Stage.objects.get(pk=setup["st"][name].pk)
    return set(Opportunity.objects.filter(reached_stage_q(stage)).values_list("name", flat=True))


def ids(setup: dict[str, Any], *names: str) -> list[int]:
    return [setup["st"][n].pk for n in names]


def test_reach_before_any_reorder(setup: dict[str, Any]) -> None:
    assert reach(setup) == {"A": 5, "B": 4, "C": 2, "Won": 1}
    assert reached(setup, "B") == {"d2", "d3", "d4", "d5"}


def test_reorder_recomputes_reach_from_the_history(setup: dict[str, Any]) -> None:
    admin = setup["admin"]
    # C before B: the deals that were in B (d2, d3, d4) still count at B; those that got as far as B now
    # passed C on the way; won deals passed every open stage
    pipeline_services.reorder_stages(
        actor=admin, pipeline=setup["pipeline"], stage_ids=ids(setup, "A", "C", "B", "Won", "Lost")
    )
    assert reach(setup) == {"A": 5, "C": 4, "B": 4, "Won": 1}
    assert reached(setup, "B") == {"d2", "d3", "d4", "d5"}
    assert reached(setup, "C") == {"d2", "d3", "d4", "d5"}
    # and back: the original figures return, names and counts together
    pipeline_services.reorder_stages(
        actor=admin, pipeline=setup["pipeline"], stage_ids=ids(setup, "A", "B", "C", "Won", "Lost")
    )
    assert reach(setup) == {"A": 5, "B": 4, "C": 2, "Won": 1}
    assert reached(setup, "C") == {"d3", "d5"}


def test_moving_the_first_stage_down(setup: dict[str, Any]) -> None:
    # B first, then A: d1 (only ever in A) reached A, which now comes after B
    pipeline_services.move_stage_order(actor=setup["admin"], stage=setup["st"]["A"], delta=1)
    assert list(Stage.objects.filter(pipeline=setup["pipeline"]).values_list("name_en", flat=True)) == [
        "B",
        "A",
        "C",
        "Won",
        "Lost",
    ]
    assert reach(setup) == {"B": 5, "A": 5, "C": 2, "Won": 1}
    d4 = Opportunity.objects.get(name="d4")
    assert d4.max_stage_order == Stage.objects.get(pk=setup["st"]["A"].pk).order  # lost stays do not count


def test_reached_stage_list_filter_follows_the_stage(setup: dict[str, Any], role_users: dict[str, User]) -> None:
    pipeline_services.reorder_stages(
        actor=setup["admin"], pipeline=setup["pipeline"], stage_ids=ids(setup, "A", "C", "B", "Won", "Lost")
    )
    client = Client()
    client.force_login(role_users["manager"])
    body = client.get(f"/opportunities/?reached_stage={setup['st']['B'].pk}").content.decode()
    for name in ("d2", "d3", "d4", "d5"):
        assert f">{name}<" in body
    assert ">d1<" not in body


def test_new_open_stage_goes_before_the_closing_stages(setup: dict[str, Any]) -> None:
    new = pipeline_services.save_stage(
        actor=setup["admin"],
        pipeline=setup["pipeline"],
        stage=None,
        values={"name_en": "D", "name_zh": "丁", "probability": 90, "kind": "open", "active": True},
    )
    names = list(Stage.objects.filter(pipeline=setup["pipeline"]).values_list("name_en", "order"))
    assert names == [("A", 0), ("B", 1), ("C", 2), ("D", 3), ("Won", 4), ("Lost", 5)]
    assert new.order == 3
    # the won deal's furthest stage moved with Won; nobody reached D except by winning
    assert Opportunity.objects.get(name="d5").max_stage_order == 4
    assert reach(setup) == {"A": 5, "B": 4, "C": 2, "D": 1, "Won": 1}
    # a new closing stage is appended
    extra = pipeline_services.save_stage(
        actor=setup["admin"],
        pipeline=setup["pipeline"],
        stage=None,
        values={"name_en": "No decision", "name_zh": "无决定", "probability": 0, "kind": "lost", "active": True},
    )
    assert extra.order == 6


def test_recompute_is_one_update(setup: dict[str, Any], django_assert_num_queries: Any) -> None:
    from kehu.sales.services.opportunities import recompute_reach

    deals = Opportunity.objects.filter(pipeline=setup["pipeline"])
    deals.update(max_stage_order=9)
    with django_assert_num_queries(2):  # the stages, then one UPDATE for every deal
        assert recompute_reach(pipeline_id=setup["pipeline"].pk) == 5
    assert reach(setup) == {"A": 5, "B": 4, "C": 2, "Won": 1}
    # deals whose value is right are not written again
    deals.filter(name="d1").update(max_stage_order=9)
    assert recompute_reach(pipeline_id=setup["pipeline"].pk) == 1
    assert Pipeline.objects.get(pk=setup["pipeline"].pk).stages.count() == 5


@pytest.mark.parametrize("value", ["abc", "99999", "-1", "1e3", "99999999999999999999"])
def test_bad_reached_stage_is_a_message_not_a_500(
    setup: dict[str, Any], role_users: dict[str, User], value: str
) -> None:
    client = Client()
    client.force_login(role_users["manager"])
    r = client.get("/opportunities/", {"reached_stage": value})
    assert r.status_code == 200
    assert "Reached stage: Choose a stage from the list." in r.content.decode()
    # the bad filter is ignored: the list shows every deal
    assert ">d1<" in r.content.decode() and ">d5<" in r.content.decode()
    # a bad value of a plain field filter is named by its field, too
    r = client.get("/opportunities/", {"stage": "abc"})
    assert r.status_code == 200 and "Stage: " in r.content.decode()


def test_a_large_pipeline_is_recounted_by_a_background_job_in_batches(
    setup: dict[str, Any],
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
    run_jobs: Any,
) -> None:
    """Beyond KEHU_REACH_INLINE_MAX deals the reorder itself only saves the order; a worker recounts the deals in
    batches (here of 2) while the pipeline page shows the job's progress, and the reports then agree."""
    from kehu.core.models import Job

    settings.KEHU_REACH_INLINE_MAX = 3  # the pipeline has 5 deals
    monkeypatch.setattr(pipeline_services, "REACH_BATCH", 2)
    admin = setup["admin"]
    with django_capture_on_commit_callbacks(execute=True):
        pipeline_services.reorder_stages(
            actor=admin, pipeline=setup["pipeline"], stage_ids=ids(setup, "A", "C", "B", "Won", "Lost")
        )
    job = Job.objects.get(kind=Job.Kind.STAGE_REACH)
    assert job.status == Job.Status.QUEUED
    assert reach(setup)["B"] == 2  # not yet recounted: counted by the old positions (d2, d4 stopped at order 1)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/settings/pipelines/{setup['pipeline'].pk}/").content.decode()
    assert f'id="job-{job.pk}"' in page and "Recount furthest stages: Order test" in page

    assert run_jobs() == 1
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (Job.Status.DONE, 5, 5)
    assert job.message == "5 deals recounted, 2 changed"  # d2 and d4: B is now further than its old place
    assert reach(setup) == {"A": 5, "C": 4, "B": 4, "Won": 1}
    assert reached(setup, "C") == {"d2", "d3", "d4", "d5"}
