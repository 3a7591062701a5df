from django.db import migrations

OLD_ACTIONS = {"view", "add", "change", "delete"}


def _grants(apps):
    RolePermission = apps.get_model("users", "RolePermission")
    return RolePermission.objects.filter(role__code="sales_manager", object_type="sales.target")


def to_team(apps, schema_editor):
    """The seed sales manager sets the targets of their own team, its sub-teams and their reps only (it could set
    any team's). Only a grant still as seeded is changed: an administrator's own edit of it is kept."""
    for grant in _grants(apps).filter(scope="all"):
        if set(grant.actions) == OLD_ACTIONS and not grant.field_rules:
            grant.scope = "team"
            grant.save(update_fields=["scope"])


def to_all(apps, schema_editor):
    for grant in _grants(apps).filter(scope="team"):
        if set(grant.actions) == OLD_ACTIONS and not grant.field_rules:
            grant.scope = "all"
            grant.save(update_fields=["scope"])


class Migration(migrations.Migration):
    dependencies = [("users", "0003_seed_sales_roles")]
    operations = [migrations.RunPython(to_team, to_all)]
