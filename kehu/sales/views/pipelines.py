"""Settings → Pipelines (administrators, gate type "sales.pipeline"): pipelines and their stages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import permissions
from kehu.core.forms import apply_errors
from kehu.sales.forms import PipelineForm, StageForm
from kehu.sales.models import Opportunity, Pipeline, Stage, StageHistory
from kehu.sales.services import pipelines as services

PIPELINE = "sales.pipeline"


def _require(request: HttpRequest, action: str = "change") -> None:
    if not permissions.can(request.user, PIPELINE, action):
        raise Http404


def _get(request: HttpRequest, pk: int) -> Pipeline:
    return permissions.get_or_404(Pipeline, request.user, pk, "change")


@login_required
def pipeline_list(request: HttpRequest) -> HttpResponse:
    _require(request)
    pipelines = list(Pipeline.objects.prefetch_related("stages"))
    counts = dict(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN)
        .values("pipeline_id")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("pipeline_id", "n")
    )
    for p in pipelines:
        p.n_deals = counts.get(p.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "sales/settings/pipeline_list.html",
        {"pipelines": pipelines, "can_add": permissions.can(request.user, PIPELINE, "add")},
    )


@login_required
def pipeline_create(request: HttpRequest) -> HttpResponse:
    _require(request, "add")
    form = PipelineForm(request.POST or None, initial={"currency": "CNY", "active": True})
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.create_pipeline(actor=request.user, data=form.values())
            messages.success(request, _("Pipeline created. Adjust its stages below."))
            return redirect("sales:pipeline_edit", pipeline.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(request, "sales/settings/pipeline_form.html", {"form": form, "obj": None})


def _stages(pipeline: Pipeline) -> list[Stage]:
    counts = dict(
        Opportunity.objects.filter(pipeline=pipeline)
        .values("stage_id")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
    history = StageHistory.objects.filter(stage=OuterRef("pk"))
    stages: list[Stage] = list(
        Stage.objects.filter(pipeline=pipeline).annotate(in_history=Exists(history)).order_by("order", "id")
    )
    for s in stages:
        s.n_deals = counts.get(s.pk, 0)  # type: ignore[attr-defined]
        s.in_use = s.n_deals > 0 or s.in_history  # type: ignore[attr-defined]
    return stages


@login_required
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    pipeline = _get(request, pk)
    form = PipelineForm(request.POST or None, instance=pipeline)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_pipeline(actor=request.user, pipeline=pipeline, values=form.values())
            messages.success(request, _("Pipeline saved."))
            return redirect("sales:pipeline_edit", pipeline.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
            pipeline.refresh_from_db()
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(
        request,
        "sales/settings/pipeline_form.html",
        {
            "form": form,
            "obj": pipeline,
            "stages": _stages(pipeline),
            "stage_form": StageForm(),
            "reach_jobs": services.reach_jobs(request.user, pipeline),
        },
    )


def _stage_save(request: HttpRequest, pipeline: Pipeline, stage: Stage | None) -> HttpResponse:
    form = StageForm(request.POST or None, instance=stage, initial={"active": True, "probability": 10})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_stage(actor=request.user, pipeline=pipeline, stage=stage, values=form.values())
            messages.success(request, _("Stage saved."))
            return redirect("sales:pipeline_edit", pipeline.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    in_use = stage is not None and services.stage_in_use(stage)
    return render(
        request,
        "sales/settings/stage_form.html",
        {"form": form, "obj": stage, "pipeline": pipeline, "in_use": in_use},
    )


@login_required
def stage_create(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    return _stage_save(request, _get(request, pk), None)


def _stage(request: HttpRequest, pk: int) -> Stage:
    _require(request)
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise Http404
    return stage


@login_required
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    return _stage_save(request, stage.pipeline, stage)


def _run(request: HttpRequest, stage: Stage, fn: Any, ok: str) -> HttpResponse:
    try:
        fn()
        messages.success(request, ok)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:pipeline_edit", stage.pipeline_id)


@login_required
@require_POST
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    return _run(request, stage, lambda: services.delete_stage(actor=request.user, stage=stage), _("Stage deleted."))


@login_required
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Up / down buttons, and the drag handle's new order (`order`: every stage id of the pipeline)."""
    stage = _stage(request, pk)
    ids = request.POST.get("order", "")
    if ids:
        order = [int(i) for i in ids.split(",") if i.strip().isdigit()]
        return _run(
            request,
            stage,
            lambda: services.reorder_stages(actor=request.user, pipeline=stage.pipeline, stage_ids=order),
            _("Stage order saved."),
        )
    delta = -1 if request.POST.get("direction") == "up" else 1
    return _run(
        request,
        stage,
        lambda: services.move_stage_order(actor=request.user, stage=stage, delta=delta),
        _("Stage order saved."),
    )
