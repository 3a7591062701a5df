"""The translation completeness check, on a small fake project with its own locale tree (needs GNU gettext,
which .ci/run installs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kehu.core import i18ncheck

CODE = """
from django.utils.translation import gettext as _, ngettext, pgettext

def labels(n):
    return [_("Customer"), _("Lead"), pgettext("lifecycle", "New"), ngettext("%(n)d contact", "%(n)d contacts", n)]
"""
TEMPLATE = '{% load i18n %}<h1>{% translate "Search" %}</h1>\n'

HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: zh_Hans\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

"""

COMPLETE = {
    "Customer": "客户",
    "Lead": "线索",
    "Search": "搜索",
}
PLURAL = """msgid "%(n)d contact"
msgid_plural "%(n)d contacts"
msgstr[0] "%(n)d 个联系人"

"""
CONTEXT = """msgctxt "lifecycle"
msgid "New"
msgstr "新客户"

"""


def write_po(locale: Path, body: str) -> Path:
    po = locale / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(HEADER + body, encoding="utf-8")
    return po


def entries(translations: dict[str, str]) -> str:
    return "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in translations.items())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    app = tmp_path / "proj" / "app"
    (app / "templates").mkdir(parents=True)
    (app / "views.py").write_text(CODE, encoding="utf-8")
    (app / "templates" / "page.html").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path / "proj"


def test_complete_translation_passes_and_the_locale_tree_is_untouched(project: Path, tmp_path: Path) -> None:
    locale = tmp_path / "locale"
    po = write_po(locale, entries(COMPLETE) + PLURAL + CONTEXT)
    before = po.read_bytes()
    assert i18ncheck.check(project, locale) == []
    assert po.read_bytes() == before
    assert sorted(p.name for p in po.parent.iterdir()) == ["django.po"]


def test_new_strings_in_code_are_reported(project: Path, tmp_path: Path) -> None:
    locale = tmp_path / "locale"
    write_po(locale, entries({"Customer": "客户"}) + CONTEXT)
    found = i18ncheck.check(project, locale)
    assert sorted(found) == ["untranslated: %(n)d contact", "untranslated: Lead", "untranslated: Search"]


def test_empty_and_fuzzy_translations_are_reported(project: Path, tmp_path: Path) -> None:
    locale = tmp_path / "locale"
    body = (
        entries({"Customer": "客户", "Lead": ""})
        + '#, fuzzy, python-format\nmsgid "Search"\nmsgstr "搜寻"\n\n'
        + PLURAL.replace("个联系人", "").replace('"%(n)d "', '""')
        + CONTEXT
    )
    write_po(locale, body)
    assert sorted(i18ncheck.check(project, locale)) == [
        "fuzzy: Search",
        "untranslated: %(n)d contact",
        "untranslated: Lead",
    ]


def test_missing_po_file_fails(project: Path, tmp_path: Path) -> None:
    (tmp_path / "locale").mkdir()
    [problem] = i18ncheck.check(project, tmp_path / "locale")
    assert problem.startswith("missing:") and problem.endswith("django.po")


def test_parser_handles_context_multiline_obsolete_and_header() -> None:
    po = (
        HEADER
        + 'msgctxt "stage"\nmsgid ""\n"Long "\n"text"\nmsgstr ""\n"长"\n"文本"\n\n'
        + '#, fuzzy\n#~ msgid "Old"\n#~ msgstr ""\n\n'
        + '#: app/views.py:3\nmsgid "Kept"\nmsgstr "保留"\n'
    )
    parsed = i18ncheck.parse_po(po)
    assert [(e.msgctxt, e.msgid, e.msgstr, e.fuzzy) for e in parsed] == [
        ("stage", "Long text", ["长文本"], False),
        (None, "Kept", ["保留"], False),
    ]
    assert i18ncheck.problems(po) == []


def test_main_exits_1_and_lists_each_msgid(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command line, pointed at the fake project the way it reads the real one (BASE_DIR/locale)."""
    base = project / "app"
    write_po(base / "locale", entries({"Customer": "客户"}))
    monkeypatch.setattr("django.conf.settings.BASE_DIR", base, raising=False)
    assert i18ncheck.main([]) == 1
    err = capsys.readouterr().err
    for msgid in ("Lead", "Search", "%(n)d contact", "New"):
        assert msgid in err
