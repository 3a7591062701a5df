# The keys of 0012 indexed with the id, so lists sorted by name, owner or customer walk an index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0012_sort_keys")]

    operations = [
        migrations.AddIndex(
            model_name="lead", index=models.Index(fields=["name_sort", "id"], name="lead_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="lead", index=models.Index(fields=["owner_sort", "id"], name="lead_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity", index=models.Index(fields=["name_sort", "id"], name="opp_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity", index=models.Index(fields=["owner_sort", "id"], name="opp_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["customer_sort", "id"], name="opp_customer_sort_idx"),
        ),
    ]
