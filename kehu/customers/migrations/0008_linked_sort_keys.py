# Customers and contacts keep a copy of their owner's (and a contact of its customer's) name key, so a list
# sorted by owner or by customer reads an index instead of sorting every row (kehu.core.collation).

from django.conf import settings
from django.db import migrations, models

from kehu.core.collation import backfill_linked


def key(label):
    return models.CharField(default="", editable=False, max_length=200, verbose_name=label)


def fill_copies(apps, schema_editor):
    user = apps.get_model("users", "User")
    customer = apps.get_model("customers", "Customer")
    contact = apps.get_model("customers", "Contact")
    backfill_linked(customer, "owner", "owner_sort", user)
    backfill_linked(contact, "owner", "owner_sort", user)
    backfill_linked(contact, "customer", "customer_sort", customer)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="customer", name="owner_sort", field=key("owner sort key")),
        migrations.AddField(model_name="contact", name="owner_sort", field=key("owner sort key")),
        migrations.AddField(model_name="contact", name="customer_sort", field=key("customer sort key")),
        migrations.RunPython(fill_copies, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer", index=models.Index(fields=["owner_sort", "id"], name="customer_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["owner_sort", "id"], name="contact_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["customer_sort", "id"], name="contact_customer_sort_idx")
        ),
    ]
