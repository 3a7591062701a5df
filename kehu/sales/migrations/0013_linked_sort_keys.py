# Leads and deals keep a copy of their owner's (and a deal of its customer's) name key, so a list sorted by
# owner or by customer reads an index instead of sorting every row (kehu.core.collation).

from django.conf import settings
from django.db import migrations, models

from kehu.core.collation import backfill_linked


def key(label):
    return models.CharField(default="", editable=False, max_length=200, verbose_name=label)


def fill_copies(apps, schema_editor):
    user = apps.get_model("users", "User")
    lead = apps.get_model("sales", "Lead")
    opportunity = apps.get_model("sales", "Opportunity")
    backfill_linked(lead, "owner", "owner_sort", user)
    backfill_linked(opportunity, "owner", "owner_sort", user)
    backfill_linked(opportunity, "customer", "customer_sort", apps.get_model("customers", "Customer"))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_linked_sort_keys"),
        ("sales", "0012_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="lead", name="owner_sort", field=key("owner sort key")),
        migrations.AddField(model_name="opportunity", name="owner_sort", field=key("owner sort key")),
        migrations.AddField(model_name="opportunity", name="customer_sort", field=key("customer sort key")),
        migrations.RunPython(fill_copies, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="lead", index=models.Index(fields=["owner_sort", "id"], name="lead_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity", index=models.Index(fields=["owner_sort", "id"], name="opp_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity", index=models.Index(fields=["customer_sort", "id"], name="opp_customer_sort_idx")
        ),
    ]
