# A sales rep sees only their own records, all with one owner key: sorted by owner, the page is their records
# in id order, read from (owner, owner key, id). Without it PostgreSQL walked the owner-key index past
# everybody else's records (about a second at a million customers).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_sort_key_indexes"),
        ("users", "0005_name_sort"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["owner", "owner_sort", "id"], name="contact_own_owner_sort_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "owner_sort", "id"], name="customer_own_owner_sort_idx"),
        ),
    ]
