# Leads and deals keep the pinyin-order key of their name and copies of their owner's (and a deal of its
# customer's) key (kehu.core.collation), written here for every existing row; indexed in the next migration.

from django.conf import settings
from django.db import migrations

from kehu.core.collation import backfill, key_field

OWNER = ("owner__display_name", "owner__username")



def fill_keys(apps, schema_editor):
    backfill(apps.get_model("sales", "Lead"), ("name",), {"owner_sort": OWNER})
    backfill(
        apps.get_model("sales", "Opportunity"), ("name",), {"owner_sort": OWNER, "customer_sort": ("customer__name",)}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_sort_key_indexes"),
        ("sales", "0011_campaign_name"),
        ("users", "0005_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="lead", name="name_sort", field=key_field("sort key")),
        migrations.AddField(model_name="lead", name="owner_sort", field=key_field("owner sort key")),
        migrations.AddField(model_name="opportunity", name="name_sort", field=key_field("sort key")),
        migrations.AddField(model_name="opportunity", name="owner_sort", field=key_field("owner sort key")),
        migrations.AddField(model_name="opportunity", name="customer_sort", field=key_field("customer sort key")),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
    ]
