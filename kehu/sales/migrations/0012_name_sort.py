# Leads and deals sort by name in pinyin order among Latin names (kehu.core.collation), through an indexed key.

from django.conf import settings
from django.db import migrations, models

from kehu.core.collation import backfill

KEY = models.CharField(default="", editable=False, max_length=200, verbose_name="sort key")


def fill_keys(apps, schema_editor):
    for name in ("Lead", "Opportunity"):
        backfill(apps.get_model("sales", name), ("name",))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_name_sort"),
        ("sales", "0011_campaign_name"),
        ("users", "0005_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="lead", name="name_sort", field=KEY),
        migrations.AddField(model_name="opportunity", name="name_sort", field=KEY),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="lead", index=models.Index(fields=["name_sort", "id"], name="lead_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity", index=models.Index(fields=["name_sort", "id"], name="opp_name_sort_idx")
        ),
    ]
