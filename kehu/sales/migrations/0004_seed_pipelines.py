from django.db import migrations

# code, English, Chinese, [(English, Chinese, probability, kind)]
PIPELINES = [
    (
        "new_business",
        "New business",
        "新客户开拓",
        [
            ("Prospecting", "初步接洽", 10, "open"),
            ("Qualification", "需求确认", 25, "open"),
            ("Proposal", "方案报价", 50, "open"),
            ("Negotiation", "商务谈判", 75, "open"),
            ("Won", "赢单", 100, "won"),
            ("Lost", "输单", 0, "lost"),
        ],
    ),
    (
        "renewals",
        "Renewals",
        "续约",
        [
            ("Renewal due", "待续约", 40, "open"),
            ("In discussion", "续约洽谈", 70, "open"),
            ("Renewed", "已续约", 100, "won"),
            ("Not renewed", "未续约", 0, "lost"),
        ],
    ),
    (
        "channel",
        "Channel partners",
        "渠道合作",
        [
            ("Deal registered", "渠道报备", 20, "open"),
            ("Joint selling", "联合推进", 50, "open"),
            ("Contracting", "签约中", 80, "open"),
            ("Won", "赢单", 100, "won"),
            ("Lost", "输单", 0, "lost"),
        ],
    ),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    PriceList = apps.get_model("sales", "PriceList")
    for order, (code, en, zh, stages) in enumerate(PIPELINES):
        pipeline, created = Pipeline.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_zh": zh, "order": order, "is_default": order == 0}
        )
        if created:
            for i, (s_en, s_zh, prob, kind) in enumerate(stages):
                Stage.objects.create(
                    pipeline=pipeline, name_en=s_en, name_zh=s_zh, order=i, probability=prob, kind=kind
                )
    if not PriceList.objects.exists():
        PriceList.objects.create(name="标准价 Standard", currency="CNY", is_default=True)


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_opportunities_and_documents")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
