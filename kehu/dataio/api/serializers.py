from __future__ import annotations

from rest_framework import serializers

from kehu.core.api import StrictSerializer
from kehu.dataio.exports import EXPORT_FORMATS


class ExportRequestSerializer(StrictSerializer):
    object_type = serializers.CharField(
        max_length=60, help_text='The list to export: "customers.customer", "customers.contact", "sales.lead" …'
    )
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="csv")
    columns = serializers.ChoiceField(
        choices=("shown", "all"),
        default="shown",
        help_text="shown: the list's columns (or those named by `cols` in `query`); all: every field you may read.",
    )
    query = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="The list page's query string: filters, q, sort and cols, e.g. `lifecycle_stage=retained&sort=name`.",
    )
