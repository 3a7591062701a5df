"""Every write to pipelines and their stages (administrators, gate type "sales.pipeline").

A stage is part of its pipeline: its changes are recorded as changes of the pipeline's `stages`. A stage
that deals sit in, or that the stage history mentions, is never deleted — it is deactivated instead, so
reports over past periods keep their meaning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core import events, jobs
from kehu.core import services as core
from kehu.core.models import Job
from kehu.sales import tasks
from kehu.sales.models import Opportunity, Pipeline, Stage, StageHistory
from kehu.sales.services.opportunities import recompute_reach

PIPELINE = "sales.pipeline"


def _stage_list(pipeline: Pipeline) -> list[str]:
    return [
        f"{s.order}. {s.name_en} / {s.name_zh} ({s.kind}, {s.probability}%{'' if s.active else ', inactive'})"
        for s in Stage.objects.filter(pipeline=pipeline).order_by("order", "id")
    ]


def _unique_code(name: str) -> str:
    base = slugify(name)[:32] or "pipeline"
    code, i = base, 2
    while Pipeline.objects.filter(code=code).exists():
        code, i = f"{base}-{i}", i + 1
    return code


def _only_default(pipeline: Pipeline) -> None:
    if pipeline.is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)


@transaction.atomic
def create_pipeline(*, actor: Any, data: dict[str, Any], stages: list[dict[str, Any]] | None = None) -> Pipeline:
    """A new pipeline; without `stages` it gets three open stages and Won / Lost to edit."""
    data = dict(data)
    data.setdefault("code", _unique_code(data.get("name_en", "")))
    data.setdefault("order", (Pipeline.objects.aggregate(m=Max("order"))["m"] or 0) + 1)
    pipeline = Pipeline(**data)
    if pipeline.is_default and not pipeline.active:
        raise ValidationError({"is_default": [_("The default pipeline must be active.")]})
    core.create(actor=actor, obj=pipeline)
    _only_default(pipeline)
    if stages is None:
        stages = [
            {"name_en": "Qualification", "name_zh": "需求确认", "probability": 20, "kind": "open"},
            {"name_en": "Proposal", "name_zh": "方案报价", "probability": 50, "kind": "open"},
            {"name_en": "Negotiation", "name_zh": "商务谈判", "probability": 75, "kind": "open"},
            {"name_en": "Won", "name_zh": "赢单", "probability": 100, "kind": "won"},
            {"name_en": "Lost", "name_zh": "输单", "probability": 0, "kind": "lost"},
        ]
    for i, s in enumerate(stages):
        stage = Stage(pipeline=pipeline, order=i, **s)
        stage.full_clean()
        stage.save()
    return pipeline


@transaction.atomic
def update_pipeline(*, actor: Any, pipeline: Pipeline, values: dict[str, Any]) -> dict[str, Any]:
    is_default = values.get("is_default", pipeline.is_default)
    active = values.get("active", pipeline.active)
    if is_default and not active:
        raise ValidationError({"active": [_("The default pipeline must stay active; make another one the default.")]})
    if pipeline.is_default and values.get("is_default") is False:
        raise ValidationError({"is_default": [_("Make another pipeline the default instead.")]})
    changes = core.update(actor=actor, obj=pipeline, values=values)
    _only_default(pipeline)
    return changes


def _require(actor: Any, pipeline: Pipeline) -> None:
    core.require(actor, PIPELINE, "change", pipeline)


def _record(actor: Any, pipeline: Pipeline, before: list[str]) -> dict[str, Any]:
    after = _stage_list(pipeline)
    if before == after:
        return {}
    changes = {"stages": [before, after]}
    events.record(actor=actor, obj=pipeline, verb="updated", changes=changes)
    return changes


def _check_closing_stages(pipeline: Pipeline) -> None:
    kinds = set(Stage.objects.filter(pipeline=pipeline, active=True).values_list("kind", flat=True))
    missing = [k for k in (Stage.Kind.OPEN, Stage.Kind.WON, Stage.Kind.LOST) if k not in kinds]
    if missing:
        raise ValidationError(
            {"kind": [_("A pipeline needs at least one active open stage, one won stage and one lost stage.")]}
        )


@transaction.atomic
def save_stage(*, actor: Any, pipeline: Pipeline, stage: Stage | None, values: dict[str, Any]) -> Stage:
    """Create (stage=None) or edit one stage. A new open stage goes after the last open stage, before the
    closing stages (Won / Lost move down one place); a new won or lost stage goes last."""
    _require(actor, pipeline)
    before = _stage_list(pipeline)
    reordered = False
    if stage is None:
        stage = Stage(pipeline=pipeline)
        kind = values.get("kind", Stage.Kind.OPEN)
        last_open = pipeline.stages.filter(kind=Stage.Kind.OPEN).aggregate(m=Max("order"))["m"]
        if kind == Stage.Kind.OPEN and last_open is not None:
            shifted = Stage.objects.filter(pipeline=pipeline, order__gt=last_open).update(order=F("order") + 1)
            stage.order = last_open + 1
            reordered = shifted > 0
        else:
            stage.order = (pipeline.stages.aggregate(m=Max("order"))["m"] or 0) + 1
    elif stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
    elif "kind" in values and values["kind"] != stage.kind and _in_use(stage):
        raise ValidationError({"kind": [_("Deals are in this stage; its kind cannot change. Add a new stage.")]})
    elif "order" in values and values["order"] != stage.order:
        reordered = True
    for name, value in values.items():
        setattr(stage, name, value)
    stage.full_clean()
    stage.save()
    _check_closing_stages(pipeline)
    if reordered:
        _recount_reach(actor, pipeline)
    _record(actor, pipeline, before)
    return stage


def _in_use(stage: Stage) -> bool:
    return Opportunity.objects.filter(stage=stage).exists() or StageHistory.objects.filter(stage=stage).exists()


def stage_in_use(stage: Stage) -> bool:
    return _in_use(stage)


@transaction.atomic
def delete_stage(*, actor: Any, stage: Stage) -> None:
    """Delete a stage no deal has ever been in; a stage in use is deactivated instead (clear message)."""
    pipeline = stage.pipeline
    _require(actor, pipeline)
    if _in_use(stage):
        raise ValidationError(
            {
                "stage": [
                    _(
                        "Deals are or were in “%(stage)s”, so it cannot be deleted. Deactivate it instead: it then "
                        "no longer appears on the board or in choices, and past reports keep it."
                    )
                    % {"stage": stage.name}
                ]
            }
        )
    before = _stage_list(pipeline)
    stage.delete()
    _check_closing_stages(pipeline)
    _record(actor, pipeline, before)


@transaction.atomic
def reorder_stages(*, actor: Any, pipeline: Pipeline, stage_ids: list[int]) -> dict[str, Any]:
    """Put the pipeline's stages in the given order (ids of all its stages)."""
    _require(actor, pipeline)
    current = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline).order_by("pk")}
    if sorted(stage_ids) != sorted(current) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationError({"stages": [_("Give every stage of this pipeline exactly once.")]})
    before = _stage_list(pipeline)
    moved = False
    for i, pk in enumerate(stage_ids):
        if current[pk].order != i:
            Stage.objects.filter(pk=pk).update(order=i)
            moved = True
    if moved:
        _recount_reach(actor, pipeline)
    return _record(actor, pipeline, before)


def move_stage_order(*, actor: Any, stage: Stage, delta: int) -> dict[str, Any]:
    """Move one stage up (-1) or down (+1)."""
    ids = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(stage.pk)
    j = max(0, min(len(ids) - 1, i + delta))
    ids[i], ids[j] = ids[j], ids[i]
    return reorder_stages(actor=actor, pipeline=stage.pipeline, stage_ids=ids)


# --------------------------------------------------------------------------- furthest stage after a reorder

REACH_BATCH = 20_000


def _recount_reach(actor: Any, pipeline: Pipeline) -> Job | None:
    """Bring every deal's furthest stage (`max_stage_order`) in line with the new stage orders: in this
    transaction for a pipeline of up to KEHU_REACH_INLINE_MAX deals (well under a second), otherwise in a
    background job the pipeline page follows — batches of REACH_BATCH deals, each its own short transaction,
    so the board stays usable meanwhile. Until it finishes, reports count those deals by the old positions."""
    if Opportunity.objects.filter(pipeline_id=pipeline.pk).count() <= settings.KEHU_REACH_INLINE_MAX:
        recompute_reach(pipeline_id=pipeline.pk)
        return None
    title = _("Recount furthest stages: %(pipeline)s") % {"pipeline": pipeline.name}
    return jobs.start(
        actor=actor, kind=Job.Kind.STAGE_REACH, title=title, params={"pipeline": pipeline.pk}, task=tasks.recount_reach
    )


def recount_reach(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    """The background recount: every deal of the pipeline, a batch at a time, with the stage orders as they
    are when each batch runs (a later reorder starts a job of its own)."""
    pipeline_id = job.params["pipeline"]
    deals = Opportunity.objects.filter(pipeline_id=pipeline_id).order_by("pk").values_list("pk", flat=True)
    progress.total(deals.count())
    changed, after = 0, 0
    while True:
        ids = list(deals.filter(pk__gt=after)[:REACH_BATCH])
        if not ids:
            break
        with transaction.atomic():
            changed += recompute_reach(pipeline_id=pipeline_id, id_range=(ids[0], ids[-1]))
        progress.advance(len(ids))
        after = ids[-1]
    n = progress.job.done
    return jobs.Outcome(
        message=ngettext("%(n)s deal recounted, %(changed)s changed", "%(n)s deals recounted, %(changed)s changed", n)
        % {"n": f"{n:,}", "changed": f"{changed:,}"}
    )


def reach_jobs(user: Any, pipeline: Pipeline) -> list[Job]:
    """The user's recounts of this pipeline still running or finished in the last minutes, for its page."""
    recent = timezone.now() - dt.timedelta(minutes=10)
    return list(
        jobs.visible(user)
        .filter(kind=Job.Kind.STAGE_REACH, params__pipeline=pipeline.pk)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=recent))[:3]
    )
