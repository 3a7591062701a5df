"""Global search: one normalised token document per record, the same hits on PostgreSQL and SQLite.

Each searchable model registers a builder that returns the record's title, subtitle and its tokens per
field. Tokens are made here, in Python, so both databases index exactly the same strings:

- Chinese text (traditional folded to simplified): every character, every adjacent pair, the whole run,
  its full pinyin (``zhangwei``), its syllables and its initials (``zw``);
- Latin text: each lower-cased word and all words joined;
- e-mail: the parts of the local part and domain, and the local part joined (``zhang.wei`` → ``zhangwei``);
- phone (E.164): ``n`` + national number, ``n`` + country code + number, and ``p`` + the last four digits.

PostgreSQL keeps ``array_to_tsvector(string_to_array(document, ' '))`` as a stored ``tsv`` column under a GIN
index (no text parser, so no locale can split a token differently); SQLite keeps an FTS5 table in step by
triggers. A query becomes AND-ed terms, each a few alternatives (exact or prefix), with the same meaning in
tsquery and FTS5. Results are filtered by the gate through owner and team columns copied onto the entry, and a record
found only through a field the user may not read is dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import Expression, RawSQL
from django.utils.translation import gettext as _

from kehu.core import permissions, registry
from kehu.core.models import SearchEntry

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[0-9a-z]+")
MAX_RESULTS = 20


@dataclass
class Document:
    """What a record puts in the index. ``parts`` are the pieces of the line under the title, each with the
    field it comes from (``[("city", "上海"), ("province", "上海")]``): they are stored as data and turned into
    text when shown, in the viewer's language and without the fields hidden from the viewer."""

    title: str
    parts: list[tuple[str, str]] = field(default_factory=list)  # (field name, value) shown under the title
    fields: dict[str, set[str]] = field(default_factory=dict)  # field name → tokens

    def tokens(self, exclude: Iterable[str] = ()) -> set[str]:
        skip = set(exclude)
        out: set[str] = set()
        for name, toks in self.fields.items():
            if name not in skip:
                out |= toks
        return out


Builder = Callable[[Any], Document]
_BUILDERS: dict[str, Builder] = {}
_LABELS: dict[str, Any] = {}  # type key → lazily translated label ("Customer"), first word of the subtitle
_PREFETCH: dict[str, tuple[str, ...]] = {}  # type key → related sets the builder reads (loaded in batches)
_ICONS: dict[str, str] = {}  # type key → Bootstrap icon of its hits, as in the sidebar


def register(
    key: str, builder: Builder, *, label: Any, icon: str = "bi-search", prefetch: tuple[str, ...] = ()
) -> None:
    _BUILDERS[key] = builder
    _LABELS[key] = label
    _ICONS[key] = icon
    _PREFETCH[key] = prefetch


def searchable_types() -> list[str]:
    return list(_BUILDERS)


def _records(ot: registry.ObjectType) -> models.QuerySet:
    """The records of a type with what their builder reads, so building many documents is a few queries."""
    qs = ot.model._default_manager.all()
    if ot.parent_attr:
        qs = qs.select_related(ot.parent_attr)
    return qs.prefetch_related(*_PREFETCH.get(ot.key, ()))


# --------------------------------------------------------------------------- normalising


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    if CJK_RUN.search(text):
        text = _t2s().convert(text)
    return text


NAME_KEY_MARK = "κ"  # starts the name-key token: a letter (one token to FTS5) that parse() never produces


def name_key(text: str) -> str:
    """The form different spellings of one name share, for duplicate checks: width folded (NFKC), case
    folded, traditional characters made simplified, and everything but letters and digits removed —
    "捷辰交通建设(嘉兴)有限公司", "捷辰交通建設（嘉興）有限公司" and "捷辰交通建设 嘉兴 有限公司" give one key."""
    text = normalise(text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def name_key_tokens(text: str) -> set[str]:
    """The index token of a name's key (see `same_name`); add it to the tokens of the name field."""
    key = name_key(text)
    return {NAME_KEY_MARK + key} if key else set()


def _pinyin(run: str) -> tuple[list[str], list[list[str]]]:
    from pypinyin import Style, lazy_pinyin, pinyin

    syllables = [s for s in lazy_pinyin(run, errors="ignore") if s.isascii()]
    # Surnames have readings the phrase dictionary does not pick (曾 zeng, 单 shan): keep every reading of
    # the first character as an alternative.
    first = pinyin(run[0], style=Style.NORMAL, heteronym=True)[0] if run else []
    return syllables, [first]


def text_tokens(text: str) -> set[str]:
    text = normalise(text)
    out: set[str] = set()
    for run in CJK_RUN.findall(text):
        out.add(run)
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
        syllables, (first_readings,) = _pinyin(run)
        if syllables:
            out.update(syllables)
            out.add("".join(syllables))
            out.add("".join(s[0] for s in syllables))
            for reading in first_readings:
                if reading.isascii() and reading != syllables[0]:
                    alt = [reading, *syllables[1:]]
                    out.add("".join(alt))
                    out.add(reading)
                    out.add("".join(s[0] for s in alt))
    words = WORD.findall(CJK_RUN.sub(" ", text))
    out.update(words)
    if len(words) > 1:
        out.add("".join(words))
    return out


def email_tokens(email: str) -> set[str]:
    email = normalise(email)
    local, _, domain = email.partition("@")
    parts = WORD.findall(local)
    out = set(parts) | set(WORD.findall(domain))
    if parts:
        out.add("".join(parts))
    return out


def phone_tokens(e164: str) -> set[str]:
    digits = re.sub(r"\D", "", e164 or "")
    if not digits:
        return set()
    out = {"n" + digits, "p" + digits[-4:]}
    try:
        import phonenumbers

        num = phonenumbers.parse("+" + digits)
        out.add("n" + str(num.national_number))
    except Exception:  # noqa: BLE001,S110 - a number we cannot parse still has its digits indexed
        pass
    return out


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Alt:
    token: str
    prefix: bool


PHONE_LIKE = re.compile(r"\+?\d[\d\s\-().]{5,}\d")  # a number as people write it: "+86 138 1234 5678"


def _digits_only(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group())
    return f" {digits} " if len(digits) >= 7 else m.group()


def parse(query: str) -> list[list[Alt]]:
    """AND-ed terms, each a list of OR-ed alternatives."""
    text = PHONE_LIKE.sub(_digits_only, normalise(query)[:200])
    terms: list[list[Alt]] = []
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            terms.append([Alt(run, False)])
        else:
            terms.extend([Alt(run[i : i + 2], False)] for i in range(len(run) - 1))
    for word in WORD.findall(CJK_RUN.sub(" ", text)):
        if word.isdigit():
            # Digits are a phone's last four (exact) or the start of a number (prefix, from five digits on):
            # short prefixes match most of the index and make PostgreSQL abandon it.
            alts = [Alt(word, False)]
            if len(word) == 4:
                alts.append(Alt("p" + word, False))
            elif len(word) >= 5:
                alts.append(Alt("n" + word, True))
            terms.append(alts)
        else:
            terms.append([Alt(word, True)])
    return terms[:12]


def matches(terms: list[list[Alt]], tokens: set[str]) -> bool:
    """The Python reading of a parsed query, used to drop hits that came from a hidden field."""
    for alts in terms:
        if not any((any(t.startswith(a.token) for t in tokens) if a.prefix else a.token in tokens) for a in alts):
            return False
    return True


def _tsquery(terms: list[list[Alt]]) -> str:
    def lexeme(a: Alt) -> str:
        quoted = "'" + a.token.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + (":*" if a.prefix else "")

    return " & ".join("(" + " | ".join(lexeme(a) for a in alts) + ")" for alts in terms)


def _fts5(terms: list[list[Alt]]) -> str:
    def phrase(a: Alt) -> str:
        return '"' + a.token.replace('"', '""') + '"' + ("*" if a.prefix else "")

    return " AND ".join("(" + " OR ".join(phrase(a) for a in alts) + ")" for alts in terms)


def match_filter(terms: list[list[Alt]]) -> RawSQL:
    """A WHERE condition on core_searchentry; the SQL text is fixed, the query is a bound parameter."""
    if connection.vendor == "postgresql":
        return RawSQL(
            "core_searchentry.tsv @@ %s::tsquery",
            [_tsquery(terms)],
            output_field=BooleanField(),
        )
    return RawSQL(
        "core_searchentry.id IN (SELECT rowid FROM core_searchentry_fts WHERE core_searchentry_fts MATCH %s)",
        [_fts5(terms)],
        output_field=BooleanField(),
    )


@dataclass
class Hit:
    object_type: registry.ObjectType
    object_id: int
    title: str
    parts: list[tuple[str, str]]  # (field, value) the viewer may read, in the order the document gave them

    @property
    def label(self) -> str:
        return str(_LABELS.get(self.object_type.key, self.object_type.label))

    @property
    def icon(self) -> str:
        return _ICONS.get(self.object_type.key, "bi-search")

    @property
    def subtitle(self) -> str:
        """The line under the title, made when shown: the type in the active language, then the parts."""
        return " · ".join([self.label, *(value for _f, value in self.parts)])

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse(self.object_type.url_name, args=[self.object_id])


SUBTITLE_MAX = 300  # SearchEntry.subtitle's length


def pack_parts(parts: list[tuple[str, str]]) -> str:
    """The stored form of a document's parts: a JSON list of [field, value] pairs that fits the column,
    shortening the longest value (with "…") until it does."""
    pairs = [[f, " ".join(str(v).split())] for f, v in parts if v and str(v).strip()]
    while True:
        text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
        excess = len(text) - SUBTITLE_MAX
        if excess <= 0:
            return text
        longest = max(pairs, key=lambda p: len(p[1]))
        keep = len(longest[1]) - excess - 1
        if keep < 1:
            pairs.remove(longest)
        else:
            longest[1] = longest[1][:keep] + "…"


def unpack_parts(stored: str) -> list[tuple[str, str]]:
    """The parts of a stored subtitle. An entry written before parts were stored holds finished text in
    the language of whoever saved the record, with no field names: it shows no parts (only the type)
    until `kehu search_reindex` rewrites it."""
    if not stored.startswith("["):
        return []
    try:
        pairs = json.loads(stored)
    except ValueError:
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def search(user: Any, query: str, *, types: Iterable[str] | None = None, limit: int = MAX_RESULTS) -> list[Hit]:
    terms = parse(query)
    if not terms:
        return []
    wanted = [t for t in registry.all_types() if t.key in _BUILDERS and (types is None or t.key in types)]
    gate = Q(pk__in=[])
    verify: dict[int, registry.ObjectType] = {}
    ct_of: dict[int, registry.ObjectType] = {}
    for ot in wanted:
        pol = permissions.policy(user, ot.key)
        if not pol.can("view"):
            continue
        ct = ContentType.objects.get_for_model(ot.model)
        ct_of[ct.pk] = ot
        gate |= Q(content_type_id=ct.pk) & pol.scope_q("owner", "team")
        if any(not pol.can_read(f) for f in ot.search_fields) or any(f.startswith("cf_") for f in pol.hidden):
            verify[ct.pk] = ot
    if not ct_of:
        return []
    qs = SearchEntry.objects.filter(match_filter(terms)).filter(gate).order_by("-id")
    rows = list(qs.values_list("content_type_id", "object_id", "title", "subtitle")[: limit * 5 if verify else limit])
    if verify:
        rows = _drop_hidden_matches(user, terms, rows, verify)
    hits = []
    for ct_id, oid, title, subtitle in rows[:limit]:
        pol = permissions.policy(user, ct_of[ct_id].key)  # cached on the user: no query
        parts = [(f, v) for f, v in unpack_parts(subtitle) if pol.can_read(f)]
        hits.append(Hit(ct_of[ct_id], oid, title, parts))
    return hits


def same_name(key: str, name: str, *, limit: int = 200) -> list[int]:
    """Ids of the records of type ``key`` whose indexed name has the same `name_key` as ``name``, newest
    first: one exact token looked up in the search index, on PostgreSQL and SQLite alike. Not gated:
    filter a visible queryset with them (``pk__in=``)."""
    tokens = name_key_tokens(name)
    if not tokens:
        return []
    ct = ContentType.objects.get_for_model(registry.get(key).model)
    terms = [[Alt(t, False) for t in tokens]]
    qs = SearchEntry.objects.filter(content_type=ct).filter(match_filter(terms)).order_by("-id")
    return list(qs.values_list("object_id", flat=True)[:limit])


DIRECT_HITS = 10_000  # restrict(): up to this many hits are passed as ids (PostgreSQL)
DIRECT_HITS_SQLITE = 500  # fewer on SQLite, whose statements take a limited number of parameters


class _IndexMatch(Expression):
    """`match_filter` for a subquery: the same condition on core_searchentry under whatever alias the query
    gives the table (Django renames it inside a subquery). The SQL text is fixed; the query is a parameter."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, terms: list[list[Alt]]) -> None:
        super().__init__()
        self.terms = terms

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        if connection.vendor == "postgresql":
            return f"{table}.tsv @@ %s::tsquery", [_tsquery(self.terms)]
        # the only interpolation is Django's own quoted alias of the table; the query is a bound parameter
        sql = f"{table}.id IN (SELECT rowid FROM core_searchentry_fts WHERE core_searchentry_fts MATCH %s)"  # noqa: S608
        return sql, [_fts5(self.terms)]


# Orders along which a common query's matches lie spread out, so walking the order finds a page's rows soon.
# Along any other (names sort 陈… together), a query with more hits than DIRECT_HITS is refused that order.
WALKABLE_ORDERS = {"updated_at", "created_at", "id", "pk", "occurred_at"}


class TooManyToSort(ValidationError):
    """More hits than can be sorted by the requested order in good time; sort by last change instead."""


def restrict(
    qs: models.QuerySet, user: Any, query: str, order: str = "-updated_at"
) -> tuple[models.QuerySet, Callable[[list], list] | None]:
    """The records of `qs` (already gated) that the quick search `query` finds, as a condition the database
    applies together with the list's filters, order and page: every match, however many.

    The condition is `id IN (entries of this type matching the query)`; the planner either reads the matching
    entries from the GIN index or walks the list's order checking each row, whichever is cheaper.

    The second value is None, or, when the user may not read a field the index covers, a function that drops
    from a page's rows those found only through such a field (the caller reads on until the page is full).
    """
    terms = parse(query)
    if not terms:
        return qs.none(), None
    ot = registry.get(qs.model)
    ct = ContentType.objects.get_for_model(ot.model)
    entries = SearchEntry.objects.filter(content_type_id=ct.pk).filter(_IndexMatch(terms)).values("object_id")
    # A rare query is answered fastest from its hits (each looked up by id), a common one by walking the list's
    # order and checking each row against the index, which finds a page's rows after a few hundred. The planner
    # cannot tell the two apart (its estimate for a token is the same either way), so count the hits up to a
    # bound: at most that many, and they are the condition itself; more, and the index is asked row by row.
    bound = DIRECT_HITS if connection.vendor == "postgresql" else DIRECT_HITS_SQLITE
    ids = list(entries.values_list("object_id", flat=True)[: bound + 1])
    if len(ids) > bound and order.lstrip("-") not in WALKABLE_ORDERS:
        # e.g. 陈 in 2,000,000 contacts sorted by name: its 88,000 matches sit together in that order, so the walk
        # would read every name before them (seconds), and reading all matches first costs as much
        raise TooManyToSort(
            _(
                "More than %(n)s records match “%(query)s”: they can only be shown by last change. "
                "Make the search more precise to sort them another way."
            )
            % {"n": f"{bound:,}", "query": query}
        )
    qs = qs.filter(pk__in=ids) if len(ids) <= bound else qs.filter(pk__in=entries)
    pol = permissions.policy(user, ot.key)
    hidden = [f for f in ot.search_fields if not pol.can_read(f)] + [f for f in pol.hidden if f.startswith("cf_")]
    if not hidden:
        return qs, None
    defs = text_definitions(ot.key)

    def keep(rows: list) -> list:
        loaded = {o.pk: o for o in _records(ot).filter(pk__in=[r.pk for r in rows])}  # what the builder reads
        return [
            r for r in rows if r.pk in loaded and matches(terms, document(loaded[r.pk], defs).tokens(exclude=hidden))
        ]

    return qs, keep


def _drop_hidden_matches(user: Any, terms: list[list[Alt]], rows: list[tuple], verify: dict) -> list[tuple]:
    keep: set[tuple[int, int]] = set()
    for ct_id, ot in verify.items():
        ids = [oid for ct, oid, *_ in rows if ct == ct_id]
        if not ids:
            continue
        pol = permissions.policy(user, ot.key)
        hidden = [f for f in ot.search_fields if not pol.can_read(f)] + [f for f in pol.hidden if f.startswith("cf_")]
        defs = text_definitions(ot.key)
        for obj in _records(ot).filter(pk__in=ids):
            if matches(terms, document(obj, defs).tokens(exclude=hidden)):
                keep.add((ct_id, obj.pk))
    return [r for r in rows if r[0] not in verify or (r[0], r[1]) in keep]


# --------------------------------------------------------------------------- indexing


def text_definitions(key: str) -> list[Any]:
    """Custom text fields of a type: their values are searchable too (as fields cf_<name>)."""
    from kehu.core.models import CustomFieldDefinition

    return list(CustomFieldDefinition.objects.filter(object_type=key, type__in=["text", "longtext"]))


def document(obj: models.Model, text_defs: list[Any] | None = None) -> Document:
    key = registry.get(obj).key
    doc = _BUILDERS[key](obj)
    custom = getattr(obj, "custom", None) or {}
    for d in text_defs if text_defs is not None else text_definitions(key):
        value = custom.get(d.name)
        if value:
            doc.fields[d.field_key] = text_tokens(str(value)[:500])
    return doc


def entry_for(obj: models.Model, text_defs: list[Any] | None = None) -> SearchEntry:
    doc = document(obj, text_defs)
    return SearchEntry(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        owner_id=getattr(obj, "owner_id", None),
        team_id=getattr(obj, "team_id", None),
        title=doc.title[:200],
        subtitle=pack_parts(doc.parts),
        document=" ".join(sorted(doc.tokens())),
    )


def index(obj: models.Model) -> None:
    """Write or refresh the search entry of one record; call inside the service's transaction."""
    e = entry_for(obj)
    SearchEntry.objects.update_or_create(
        content_type=e.content_type,
        object_id=e.object_id,
        defaults={
            "owner_id": e.owner_id,
            "team_id": e.team_id,
            "title": e.title,
            "subtitle": e.subtitle,
            "document": e.document,
        },
    )


def bulk_index(objs: Iterable[models.Model], batch_size: int = 2000) -> int:
    """Insert entries for records that have none yet (the bulk path used by imports and demo data)."""
    objs = list(objs)
    defs = text_definitions(registry.get(objs[0]).key) if objs else []
    entries = [entry_for(o, defs) for o in objs]
    SearchEntry.objects.bulk_create(entries, batch_size=batch_size, ignore_conflicts=True)
    return len(entries)


def unindex(obj: models.Model) -> None:
    SearchEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk).delete()


def reindex(keys: Iterable[str] | None = None, batch_size: int = 2000) -> int:
    """Rewrite the entries of every record of the given types (all searchable types by default), in id
    order and batches, one transaction per batch: after a change to what documents hold. An entry is
    updated in place, keeping its id and so its place in the newest-first order; a missing one is added.
    Returns the number of records indexed."""
    from django.db import transaction

    fields = ["owner_id", "team_id", "title", "subtitle", "document"]
    n = 0
    for key in keys if keys is not None else list(_BUILDERS):
        ot = registry.get(key)
        ct = ContentType.objects.get_for_model(ot.model)
        defs = text_definitions(key)
        qs = _records(ot).order_by("pk")
        last = 0
        while True:
            objs = list(qs.filter(pk__gt=last)[:batch_size])
            if not objs:
                break
            with transaction.atomic():
                existing = dict(
                    SearchEntry.objects.filter(content_type=ct, object_id__in=[o.pk for o in objs]).values_list(
                        "object_id", "id"
                    )
                )
                entries = [entry_for(o, defs) for o in objs]
                for e in entries:
                    e.pk = existing.get(e.object_id)
                SearchEntry.objects.bulk_update([e for e in entries if e.pk], fields, batch_size=batch_size)
                SearchEntry.objects.bulk_create([e for e in entries if not e.pk], batch_size=batch_size)
            n += len(objs)
            last = objs[-1].pk
    return n
