from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from kehu.core import customfields


class RequestMemoMiddleware:
    """Per-request memory for what many parts of one page read (custom field definitions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with customfields.remembered_per_request():
            return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuse request bodies over KEHU_MAX_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.KEHU_MAX_BODY_BYTES
        if request.path.endswith("/files/") and request.content_type == "multipart/form-data":
            limit = settings.KEHU_MAX_UPLOAD_BYTES  # file uploads; the view checks each file's size and type
        if length > limit:
            message = _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": {"__all__": [message]}}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
