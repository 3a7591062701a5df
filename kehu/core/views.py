from __future__ import annotations

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from kehu.core import jobs, queries, registry, saved_views
from kehu.core import search as search_mod
from kehu.core.models import SavedView


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's middleware, which sets `request.htmx` (django-htmx's typing recipe)."""

    htmx: HtmxDetails


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return fallback


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", queries.home(request.user))


@login_required
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    partial = request.GET.get("partial") == "1"
    hits = search_mod.search(request.user, q, limit=8 if partial else 50) if q else []
    ctx = {"hits": hits, "search_query": q}
    return render(request, "core/_search_pop.html" if partial else "core/search.html", ctx)


@login_required
def history(request: HttpRequest, type_key: str, pk: int) -> HttpResponse:
    """Every change of one record (of any registered type) in full, a page at a time."""
    start = request.GET.get("start", "")
    try:
        page = queries.history(
            request.user,
            type_key,
            pk,
            cursor=request.GET.get("cursor") or None,
            start=int(start) if start.isdigit() else None,
            oldest_first=request.GET.get("order") == "oldest",
        )
    except ValidationError as exc:
        raise BadRequest(exc.messages[0]) from exc
    return render(request, "core/history.html", {"page": page, "obj": page.obj, "start": start})


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    object_type = request.POST.get("object_type", "")
    try:
        registry.get(object_type)
        saved_views.save(
            user=request.user,
            object_type=object_type,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
        )
        messages.success(request, _("View saved."))
    except (KeyError, ValidationError) as exc:
        messages.error(request, exc.messages[0] if isinstance(exc, ValidationError) else _("Unknown list."))
    return redirect(safe_next(request))


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    saved_views.delete(user=request.user, view=view)
    messages.success(request, _("View deleted."))
    return redirect(safe_next(request))


def attachment(file: FieldFile, name: str) -> FileResponse:
    """A stored file as a download under `name`, never rendered inline by the browser."""
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- background jobs


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """The user's exports and other background work of the last year, newest first."""
    ctx = {"jobs": list(jobs.visible(request.user)[:100]), "settings_job_days": settings.KEHU_JOB_FILES_DAYS}
    return render(request, "core/jobs.html", ctx)


@login_required
def job_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One job's progress; htmx asks for the card alone, again every second until the job has finished."""
    job = get_object_or_404(jobs.visible(request.user), pk=pk)
    return render(request, "core/_job.html" if request.htmx else "core/job.html", {"job": job})


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = jobs.downloadable(request.user, pk)
    return attachment(job.file, job.file_name)
