"""Exports under /api/v1/exports/: the same job as the list pages' Export menu."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.api import idempotent
from kehu.core.apiviews import JobSerializer
from kehu.dataio import services
from kehu.dataio.api.serializers import ExportRequestSerializer


class ExportView(APIView):
    """Start exporting a list as CSV or XLSX: the rows you may see, the fields you may read, with the list's
    filters. Answers 202 with the job; follow it at /api/v1/jobs/{id}/ and fetch its `download` when done."""

    @extend_schema(operation_id="exports_create", request=ExportRequestSerializer, responses={202: JobSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = services.start_export(
            actor=request.user,
            object_type=data["object_type"],
            query=data["query"],
            fmt=data["format"],
            columns=data["columns"],
        )
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
