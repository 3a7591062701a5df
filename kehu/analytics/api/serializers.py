"""Shapes of the report API's answers (documentation and output share them, so they cannot drift)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kehu.core.api import GatedSerializer
from kehu.sales.models import Target


class MoneySerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField(help_text="Decimal as a string.")
    count = serializers.IntegerField()
    average = serializers.CharField(allow_null=True)


class StageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    order = serializers.IntegerField()
    reached = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="From the previous stage, 0–1.")
    overall = serializers.FloatField(allow_null=True, help_text="From the first stage, 0–1.")


class PipelineFunnelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    started = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    open = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True)
    stages = StageSerializer(many=True)


class BreakdownSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    won_amounts = MoneySerializer(many=True)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class FiltersSerializer(serializers.Serializer):
    team = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # a field named like Field.source
    pipeline = serializers.IntegerField(allow_null=True)


class LeadFiguresSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    followed_up = serializers.IntegerField()
    follow_up_rate = serializers.FloatField(allow_null=True)


class DealFiguresSerializer(serializers.Serializer):
    started = serializers.IntegerField(help_text="Deals started in the period.")
    won_of_started = serializers.IntegerField(help_text="Of those, won by now.")
    conversion = serializers.FloatField(allow_null=True)
    won = serializers.IntegerField(help_text="Deals closed as won in the period.")
    lost = serializers.IntegerField(help_text="Deals closed as lost in the period.")
    win_rate = serializers.FloatField(allow_null=True)
    won_amounts = MoneySerializer(many=True)
    avg_cycle_days = serializers.FloatField(allow_null=True)
    median_cycle_days = serializers.FloatField(allow_null=True)


class FunnelSerializer(serializers.Serializer):
    period = PeriodSerializer()
    filters = FiltersSerializer()
    leads = LeadFiguresSerializer()
    deals = DealFiguresSerializer()
    pipelines = PipelineFunnelSerializer(many=True)
    by_owner = BreakdownSerializer(many=True)
    by_team = BreakdownSerializer(many=True)


# --------------------------------------------------------------------------- forecast


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, help_text="Decimal as a string.")


class ScopeFiltersSerializer(serializers.Serializer):
    team = serializers.IntegerField(allow_null=True, source="team.pk")
    owner = serializers.IntegerField(allow_null=True, source="owner.pk")
    pipeline = serializers.IntegerField(allow_null=True, source="pipeline.pk")
    currency = serializers.CharField()


class ForecastMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month (past due, no close date: this month).")
    open_count = serializers.IntegerField(help_text="Open deals expected to close in the month.")
    pipeline = _money()
    weighted = _money()
    commit = _money()
    closed = _money()
    predicted = _money()
    best_case = _money()
    commit_total = _money()


class BacktestSerializer(serializers.Serializer):
    month = serializers.DateField()
    forecast = _money()
    actual = _money()
    error = _money()
    error_pct = serializers.FloatField(allow_null=True, help_text="Error ÷ actual × 100; null when nothing was won.")


class StageRateSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    pipeline_id = serializers.IntegerField()
    name = serializers.CharField()
    win_rate = serializers.FloatField(allow_null=True, help_text="0–1; null without closed deals to learn from.")
    days_to_win = serializers.FloatField(allow_null=True, help_text="Median days from entering the stage to winning.")


class StageModelSerializer(serializers.Serializer):
    closed_deals = serializers.IntegerField()
    won_deals = serializers.IntegerField()
    stages = StageRateSerializer(many=True)


class ForecastSerializer(serializers.Serializer):
    filters = ScopeFiltersSerializer()
    months = ForecastMonthSerializer(many=True)
    past_due = ForecastMonthSerializer()
    undated = ForecastMonthSerializer()
    backtest = BacktestSerializer(many=True)
    mean_abs_error = _money()
    mean_abs_error_pct = serializers.FloatField(allow_null=True)
    model = StageModelSerializer()


# --------------------------------------------------------------------------- performance


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="__str__")


class RepRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = UserRefSerializer(allow_null=True)
    won = _money()
    won_deals = serializers.IntegerField()
    target = _money()
    target_deals = serializers.IntegerField()
    attainment = serializers.IntegerField(allow_null=True, help_text="Won ÷ target, per cent.")
    deals_attainment = serializers.IntegerField(allow_null=True)
    open_pipeline = _money()
    follow_ups = serializers.IntegerField()
    tasks_assigned = serializers.IntegerField()
    tasks_done = serializers.IntegerField()
    tasks_on_time = serializers.IntegerField()
    tasks_overdue = serializers.IntegerField()
    task_completion = serializers.IntegerField(allow_null=True)


class TrendPointSerializer(serializers.Serializer):
    month = serializers.DateField()
    won = _money()
    target = _money()
    attainment = serializers.IntegerField(allow_null=True)


class PerformancePeriodSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["month", "quarter"])
    start = serializers.DateField()
    end = serializers.DateField(help_text="Last day of the period (included).")


class PerformanceSerializer(serializers.Serializer):
    period = PerformancePeriodSerializer()
    filters = ScopeFiltersSerializer()
    reps = RepRowSerializer(many=True)
    total = RepRowSerializer()
    trend = TrendPointSerializer(many=True)


# --------------------------------------------------------------------------- expansion


class ProductRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    sku = serializers.CharField()
    series = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    product = ProductRefSerializer()
    because = ProductRefSerializer(help_text="The product the customer has that the evidence starts from.")
    kind = serializers.SerializerMethodField()
    customers_both = serializers.IntegerField(source="both", help_text="Peer customers who bought both.")
    customers_because = serializers.IntegerField(source="buyers", help_text="Peer customers who bought `because`.")
    support = serializers.FloatField()
    confidence = serializers.FloatField()
    lift = serializers.FloatField()
    industry = serializers.CharField(help_text="The peers' industry; empty when the peers are every customer.")

    def get_kind(self, obj: Any) -> str:
        return "up_sell" if obj.upsell else "cross_sell"


class ExpansionSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    suggestions = SuggestionSerializer(many=True)


# --------------------------------------------------------------------------- partners and suppliers


class AmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField(help_text="Decimal as a string.")
    count = serializers.IntegerField()


class PartnerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The partner's customer id.")
    name = serializers.CharField()
    sourced = serializers.IntegerField(help_text="Deals naming the partner started in the period.")
    open = serializers.IntegerField(help_text="Its open deals today, whenever they started.")
    open_amounts = AmountSerializer(many=True, help_text="Their amount per currency (empty without `amount`).")
    won = serializers.IntegerField(help_text="Its deals won in the period.")
    lost = serializers.IntegerField(help_text="Its deals lost in the period.")
    win_rate = serializers.FloatField(allow_null=True, help_text="won ÷ (won + lost), 0–1; null without any.")
    won_amounts = AmountSerializer(many=True)
    last_deal = serializers.DateField(allow_null=True, help_text="The latest start of any of its deals.")


class SupplierRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The supplier's customer id.")
    name = serializers.CharField()
    contracts = serializers.IntegerField(help_text="Supplier contracts starting in the period.")
    values = AmountSerializer(many=True, help_text="Their value per currency (empty without `value`).")
    active = serializers.IntegerField(help_text="Active supplier contracts today.")
    next_date = serializers.DateField(
        allow_null=True, help_text="The earliest renewal or end date, from today, of the active contracts."
    )


class PartnersFiltersSerializer(serializers.Serializer):
    team = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)


class PartnersSerializer(serializers.Serializer):
    period = PeriodSerializer()
    filters = PartnersFiltersSerializer()
    partners = PartnerRowSerializer(
        many=True, allow_null=True, help_text="Null when you may not read the partner of deals."
    )
    partners_total = serializers.IntegerField(help_text="Partners with figures; at most 200 are listed.")
    suppliers = SupplierRowSerializer(many=True, allow_null=True, help_text="Null when you may not see contracts.")
    suppliers_total = serializers.IntegerField(help_text="Suppliers with figures; at most 200 are listed.")


# --------------------------------------------------------------------------- targets


class TargetSerializer(GatedSerializer):
    object_type = "sales.target"

    class Meta:
        model = Target
        fields = ["id", "period", "start", "user", "team", "amount", "deals", "currency"]
        validators: list[Any] = []  # set_target answers each rule with its own message
        extra_kwargs = {
            "amount": {"validators": [], "coerce_to_string": True},
            "deals": {"validators": [], "min_value": None, "max_value": 2147483647},  # the same on every database
        }
