"""Pages of imports and exports: starting a list export (the file is written by a background job)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.views import HtmxHttpRequest, safe_next
from kehu.dataio import services


@login_required
@require_POST
def export_start(request: HtmxHttpRequest, object_type: str) -> HttpResponse:
    """Start exporting a list as the user sees it (the form sends the page's query string); htmx gets the
    job's progress card for the page, a plain form post the job's own page."""
    try:
        job = services.start_export(
            actor=request.user,
            object_type=object_type,
            query=request.POST.get("query", ""),
            fmt=request.POST.get("format", "csv"),
            columns=request.POST.get("columns", "shown"),
        )
    except (ValidationError, PermissionDenied) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else _("You may not export this list.")
        if request.htmx:  # shown where the progress card would have been (htmx swaps only 2xx answers)
            return render(request, "core/_job_error.html", {"message": text})
        messages.error(request, text)
        return redirect(safe_next(request))
    if request.htmx:
        return render(request, "core/_job.html", {"job": job})
    return redirect("job_detail", job.pk)
