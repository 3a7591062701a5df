# Names sort by pinyin among Latin names (kehu.core.collation): each customer and contact keeps the key of its
# name, and copies of its owner's (and a contact of its customer's) key for the sorts through those links.
# Every existing row is written once here; the indexes follow in the next migration, in a transaction of
# their own (PostgreSQL refuses to index a table with pending constraint checks from these updates).

from django.conf import settings
from django.db import migrations

from kehu.core.collation import backfill, key_field

OWNER = ("owner__display_name", "owner__username")



def fill_keys(apps, schema_editor):
    backfill(apps.get_model("customers", "Customer"), ("name",), {"owner_sort": OWNER})
    backfill(
        apps.get_model("customers", "Contact"), ("name",), {"owner_sort": OWNER, "customer_sort": ("customer__name",)}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_list_sort_indexes"),
        ("users", "0005_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="customer", name="name_sort", field=key_field("sort key")),
        migrations.AddField(model_name="customer", name="owner_sort", field=key_field("owner sort key")),
        migrations.AddField(model_name="contact", name="name_sort", field=key_field("sort key")),
        migrations.AddField(model_name="contact", name="owner_sort", field=key_field("owner sort key")),
        migrations.AddField(model_name="contact", name="customer_sort", field=key_field("customer sort key")),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
    ]
