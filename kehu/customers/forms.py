from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import GatedModelForm, LookupWidget
from kehu.customers.models import ChannelKind, Contact, Customer

CN_PROVINCES = [
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
]


class CustomerForm(GatedModelForm):
    object_type = "customers.customer"
    picklist_fields = ("industry", "source")
    tag_names = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    website = forms.URLField(label=_("Website"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Customer
        fields = [
            "kind",
            "name",
            "relationship",
            "lifecycle_stage",
            "industry",
            "source",
            "size_tier",
            "uscc",
            "country",
            "province",
            "city",
            "address",
            "website",
            "description",
            "credit_limit",
            "payment_terms",
            "bank_account",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "province": forms.TextInput(attrs={"list": "provinces"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "relationship" in self.fields:
            self.fields["relationship"].required = False
        if not self.policy.can_write("tags"):
            del self.fields["tag_names"]
        elif self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())

    def clean_relationship(self) -> str:
        # optional in the form: a form without it keeps the record's value (new records: a customer)
        value = self.cleaned_data.get("relationship")
        return value or (self.instance.relationship if self.instance.pk else Customer.Relationship.CUSTOMER)

    def tag_list(self) -> list[str] | None:
        if "tag_names" not in self.fields:
            return None
        return [t.strip() for t in self.cleaned_data.get("tag_names", "").replace("，", ",").split(",") if t.strip()]


class ContactForm(GatedModelForm):
    object_type = "customers.contact"

    class Meta:
        model = Contact
        fields = ["customer", "name", "title", "department", "gender", "birthday", "is_primary", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "birthday": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "customer" in self.fields and customers is not None:
            field = self.fields["customer"]
            field.queryset = customers  # type: ignore[attr-defined]
            field.widget = LookupWidget(reverse_lazy("customers:lookup"))
            field.widget.choices = field.choices  # type: ignore[attr-defined]


CHANNEL_KINDS = ChannelKind.choices


def channels_from_post(data: Any) -> list[dict[str, Any]]:
    kinds, values, labels = data.getlist("ch-kind"), data.getlist("ch-value"), data.getlist("ch-label")
    primary = set(data.getlist("ch-primary"))
    return [
        {"kind": k, "value": v, "label": labels[i] if i < len(labels) else "", "is_primary": str(i) in primary}
        for i, (k, v) in enumerate(zip(kinds, values, strict=False))
    ]
