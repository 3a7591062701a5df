# Names sort by pinyin among Latin names (kehu.core.collation): a key column beside each name, filled for the
# rows already there, and indexed with the id in place of the name's own index.

from django.conf import settings
from django.db import migrations, models

from kehu.core.collation import backfill

KEY = models.CharField(default="", editable=False, max_length=200, verbose_name="sort key")


def fill_keys(apps, schema_editor):
    for name in ("Customer", "Contact"):
        backfill(apps.get_model("customers", name), ("name",))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_list_sort_indexes"),
        ("users", "0005_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="customer", name="name_sort", field=KEY),
        migrations.AddField(model_name="contact", name="name_sort", field=KEY),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer", index=models.Index(fields=["name_sort", "id"], name="customer_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["name_sort", "id"], name="contact_name_sort_idx")
        ),
        migrations.RemoveIndex(model_name="customer", name="customer_name_idx"),
        migrations.RemoveIndex(model_name="contact", name="contact_name_idx"),
    ]
