from django.db import migrations

LOSS_REASONS = [
    ("price", "Price too high", "价格过高"),
    ("competitor", "Lost to a competitor", "输给竞争对手"),
    ("no_budget", "No budget", "没有预算"),
    ("no_decision", "No decision / shelved", "无决策或搁置"),
    ("product_fit", "Product does not fit", "产品不匹配"),
    ("timing", "Bad timing", "时机不对"),
    ("unresponsive", "Customer stopped responding", "客户失联"),
    ("other", "Other", "其他"),
]


def seed(apps, schema_editor):
    PicklistOption = apps.get_model("core", "PicklistOption")
    for order, (value, en, zh) in enumerate(LOSS_REASONS):
        PicklistOption.objects.get_or_create(
            list="loss_reason", value=value, defaults={"label_en": en, "label_zh": zh, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0007_alter_picklistoption_list")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
