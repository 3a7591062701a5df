from django.db import migrations

OPTIONS = {
    "industry": [
        ("manufacturing", "Manufacturing", "制造业"),
        ("technology", "Technology", "信息技术"),
        ("finance", "Finance", "金融"),
        ("retail", "Retail", "零售"),
        ("healthcare", "Healthcare", "医疗健康"),
        ("education", "Education", "教育"),
        ("logistics", "Logistics", "物流"),
        ("energy", "Energy", "能源"),
        ("real_estate", "Real estate", "房地产"),
        ("government", "Government", "政府与公共事业"),
        ("media", "Media", "传媒"),
        ("other", "Other", "其他"),
    ],
    "source": [
        ("website", "Website", "官网"),
        ("web_form", "Web form", "网页表单"),
        ("phone", "Phone", "电话"),
        ("email", "E-mail", "邮件"),
        ("wechat", "WeChat", "微信"),
        ("social", "Social media", "社交媒体"),
        ("referral", "Referral", "转介绍"),
        ("trade_show", "Trade show", "展会"),
        ("partner", "Partner", "合作伙伴"),
        ("campaign", "Campaign", "市场活动"),
        ("import", "Import", "导入"),
        ("walk_in", "In person", "到访"),
    ],
    "disqualify_reason": [
        ("no_budget", "No budget", "没有预算"),
        ("no_need", "No need", "没有需求"),
        ("competitor", "Chose a competitor", "选择了竞争对手"),
        ("unreachable", "Unreachable", "无法联系"),
        ("duplicate", "Duplicate", "重复线索"),
        ("spam", "Spam", "垃圾信息"),
        ("other", "Other", "其他"),
    ],
}


def seed(apps, schema_editor):
    PicklistOption = apps.get_model("core", "PicklistOption")
    for list_key, options in OPTIONS.items():
        for order, (value, en, zh) in enumerate(options):
            PicklistOption.objects.get_or_create(
                list=list_key, value=value, defaults={"label_en": en, "label_zh": zh, "order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0003_search_index")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
