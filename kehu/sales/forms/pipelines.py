"""Settings forms: a pipeline and one of its stages."""

from __future__ import annotations

from typing import Any

from django import forms

from kehu.sales.models import Pipeline, Stage


class _Styled(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            css = (
                "form-check-input"
                if isinstance(f.widget, forms.CheckboxInput)
                else "form-select"
                if isinstance(f.widget, forms.Select)
                else "form-control"
            )
            f.widget.attrs.setdefault("class", css)

    def values(self) -> dict[str, Any]:
        return {n: self.cleaned_data[n] for n in self._meta.fields or [] if n in self.cleaned_data}


class PipelineForm(_Styled):
    class Meta:
        model = Pipeline
        fields = ["name_en", "name_zh", "currency", "is_default", "active"]

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "CNY").upper()


class StageForm(_Styled):
    class Meta:
        model = Stage
        fields = ["name_en", "name_zh", "probability", "kind", "active"]
