# The keys of 0007 indexed with the id, so lists sorted by name, owner or customer walk an index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_sort_keys")]

    operations = [
        migrations.AddIndex(
            model_name="customer", index=models.Index(fields=["name_sort", "id"], name="customer_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="customer", index=models.Index(fields=["owner_sort", "id"], name="customer_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["name_sort", "id"], name="contact_name_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["owner_sort", "id"], name="contact_owner_sort_idx")
        ),
        migrations.AddIndex(
            model_name="contact", index=models.Index(fields=["customer_sort", "id"], name="contact_customer_sort_idx")
        ),
        migrations.RemoveIndex(model_name="customer", name="customer_name_idx"),
        migrations.RemoveIndex(model_name="contact", name="contact_name_idx"),
    ]
