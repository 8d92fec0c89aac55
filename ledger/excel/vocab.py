"""The words of a ledger that name the campaign's own things: 问题来源 and 问题类别, written the office's way.

A source word is the campaign's source of that name, or one of its learnt wordings (`Source.aliases`), or a
synonym of a standard source (`columns.SOURCE_SYNONYMS`: 县委巡察 → 巡视巡察). Any other word waits for a decision:
an existing source, or "+" to add it to the campaign. A category cell is matched against the catalogue by code,
name or path ("一、政治责任方面/1.深学细悟…"); when the campaign has no catalogue, one is built from the cells.

    vocab = Vocabulary(campaign, sheet, sources=…, categories=…, source_choices={"作风整顿自查": "自查自纠"})
    vocab.source("县委巡察")     # the Source (saved, or a stand-in for one the import will add)
    vocab.pending               # what still needs a decision; the import writes nothing while any is left

Reads only; `Vocabulary.write` adds what was decided (sources, learnt words, categories) through the campaign's
services, inside the import's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaigns import services as campaign_services
from campaigns.models import Campaign, Category, Source
from core.xlsx import halfwidth

from .columns import SOURCE_HINTS, SOURCE_SYNONYMS
from .reader import LedgerSheet
from .unitref import norm

ADD = "+"  # the decision "add this word to the campaign"
_TRAILING_NOTE = re.compile(r"[（(][^（()）]*[)）]$")
_PATH_SPLIT = re.compile(r"\s*(?:[/／\\>＞→]|\n)\s*")
_CN_NUM = "一二三四五六七八九十"
_NUMBERED = re.compile(
    r"^(?:第?([一二三四五六七八九十]{1,3})[、.．,，\s]+|[（(]\s*([一二三四五六七八九十\d]{1,3})\s*[)）]\s*"
    r"|(\d{1,3})(?:[、．,，]|\.(?!\d))\s*)"
)
_CODE = re.compile(r"^[A-Za-z]{0,3}\d{1,3}(?:[.\-]\d{1,3}){0,3}$")
_LEADING_CODE = re.compile(r"^([A-Za-z]{0,3}\d{1,3}(?:[.\-]\d{1,3}){1,3})[\s、.．]*(.+)$")


def _cn_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _CN_NUM.index(text) + 1
    tens, _, units = text.partition("十")
    return (_CN_NUM.index(tens) + 1 if tens else 1) * 10 + (_CN_NUM.index(units) + 1 if units else 0)


@dataclass(frozen=True)
class PathPart:
    number: int | None  # 一、 / 1. / （一）
    code: str  # a code written in the cell ("1.01 …", or a bare "4.10")
    name: str


def category_path(word: str) -> list[PathPart]:
    """ "一、政治责任方面/1.深学细悟…" → [PathPart(1, "", "政治责任方面"), PathPart(1, "", "深学细悟…")]."""
    parts: list[PathPart] = []
    for raw in _PATH_SPLIT.split(halfwidth(word).strip()):
        text = raw.strip()
        if not text:
            continue
        if _CODE.match(text):
            parts.append(PathPart(None, text, ""))
            continue
        m = _LEADING_CODE.match(text)
        if m:
            parts.append(PathPart(None, m.group(1), m.group(2).strip()))
            continue
        m = _NUMBERED.match(text)
        if m:
            number = _cn_int(m.group(1) or m.group(2) or m.group(3))
            parts.append(PathPart(number, "", text[m.end():].strip()))
            continue
        parts.append(PathPart(None, "", text))
    return parts


@dataclass
class WordChoice:
    """A word of the file that matched nothing: where it is and what was decided."""

    word: str
    rows: list[int] = field(default_factory=list)
    choice: str = ""  # "" undecided, an existing name, or ADD
    suggest: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"word": self.word, "count": len(self.rows), "rows": self.rows[:20], "choice": self.choice,
                "suggest": self.suggest}


@dataclass
class NewCategory:
    code: str
    name: str
    parent_code: str  # "" for a top-level category
    word: str  # the cell that brought it ("" for a parent made for a child)

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "parent_code": self.parent_code, "word": self.word}


def category_label(c: Category) -> str:
    return f"{c.code} {c.name}"


class Vocabulary:
    def __init__(
        self, campaign: Campaign, sheet: LedgerSheet, *, sources: Iterable[Source], categories: Iterable[Category],
        source_choices: Mapping[str, str] | None = None, category_choices: Mapping[str, str] | None = None,
        add_sources: bool = False, add_categories: bool = False,
    ) -> None:
        self.campaign = campaign
        self.sources = list(sources)
        self.categories = list(categories)
        self.had_catalogue = bool(self.categories)
        self.source_choices = {norm(k): v for k, v in (source_choices or {}).items()}
        self.category_choices = {norm(k): v for k, v in (category_choices or {}).items()}
        self.add_sources, self.add_categories = add_sources, add_categories
        self.source_words: dict[str, WordChoice] = {}  # norm(word) → the word, for the words matched by nothing
        self.category_words: dict[str, WordChoice] = {}
        self.new_sources: dict[str, Source] = {}  # name → a stand-in until written
        self.learnt: dict[str, Source] = {}  # word → the source it was mapped to (remembered on write)
        self.new_categories: list[NewCategory] = []
        self._source_of: dict[str, Source | None] = {}
        self._category_of: dict[str, Category | None] = {}
        self._stand_ins: dict[str, Category] = {}  # code → an unsaved category for a new one
        self._by_name = {norm(s.name): s for s in self.sources}
        for s in self.sources:
            for alias in s.aliases or []:
                self._by_name.setdefault(norm(alias), s)
        self.errors: list[str] = []
        self.codes_only = 0  # problems whose category cell is a bare code, with no catalogue to read it by
        for rec in sheet.problems:
            if rec.source:
                self._see_source(rec.source, rec.row)
        cells = [(rec.category, rec.row) for rec in sheet.problems if rec.category]
        if self.had_catalogue:
            for word, row in cells:
                self._see_category(word, row)
        elif cells:
            self._build_catalogue(cells)

    # ---- sources ------------------------------------------------------------------------------------------------

    def _known_source(self, word: str) -> Source | None:
        key = norm(word)
        found = self._by_name.get(key) or self._by_name.get(norm(_TRAILING_NOTE.sub("", word)))
        if found is not None:
            return found
        standard = SOURCE_SYNONYMS.get(norm(halfwidth(word)))
        return self._by_name.get(norm(standard)) if standard else None

    def _see_source(self, word: str, row: int) -> None:
        key = norm(word)
        if key in self._source_of:
            if key in self.source_words:
                self.source_words[key].rows.append(row)
            return
        found = self._known_source(word)
        if found is not None and key not in self.source_choices:  # a decision on a known word still counts
            self._source_of[key] = found
            return
        wc = self.source_words[key] = WordChoice(word=word, rows=[row], suggest=self._source_hint(word))
        choice = self.source_choices.get(key, ADD if self.add_sources else "")
        if choice == ADD:
            wc.choice = ADD
            named = next((s for s in self.sources if norm(s.name) == key), None)  # added already
            self._source_of[key] = named or self.new_sources.setdefault(word, Source(campaign=self.campaign, name=word))
        elif choice:
            target = self._by_name.get(norm(choice))
            if target is None:
                self.errors.append(f"问题来源“{word}”要对应的“{choice}”不是本专项行动的来源。")
                self._source_of[key] = None
            else:
                wc.choice = target.name
                self._source_of[key] = self.learnt[word] = target
        else:
            self._source_of[key] = None

    def _source_hint(self, word: str) -> str:
        for fragment, standard in SOURCE_HINTS:
            if fragment in word and norm(standard) in self._by_name:
                return self._by_name[norm(standard)].name
        return ""

    def source(self, word: str) -> Source | None:
        """The source a word names, once decided; None for a blank or undecided word."""
        return self._source_of.get(norm(word)) if word else None

    # ---- categories ---------------------------------------------------------------------------------------------

    def _match_category(self, word: str) -> Category | None:
        key = norm(word)
        for c in self.categories:
            if key in (norm(c.code), norm(c.name), norm(f"{c.code}{c.name}")):
                return c
        try:
            number = float(halfwidth(word).strip())
        except ValueError:
            number = None
        if number is not None:
            hits = [c for c in self.categories if _float(c.code) == number]
            if len(hits) == 1:
                return hits[0]
        parts = category_path(word)
        if not parts:
            return None
        leaf = parts[-1]
        pool = self.categories
        if len(parts) > 1:
            parent = self._match_part(parts[-2], self.categories)
            if parent is not None:
                pool = [c for c in self.categories if c.parent_id == parent.pk] or pool
        return self._match_part(leaf, pool)

    def _match_part(self, part: PathPart, pool: list[Category]) -> Category | None:
        if part.code:
            hits = [c for c in pool if c.code == part.code or _float(c.code) == _float(part.code)]
            if len(hits) == 1:
                return hits[0]
        if part.name:
            hits = [c for c in pool if norm(c.name) == norm(part.name)]
            if len(hits) == 1:
                return hits[0]
        return None

    def _see_category(self, word: str, row: int) -> None:
        key = norm(word)
        if key in self._category_of:
            if key in self.category_words:
                self.category_words[key].rows.append(row)
            return
        found = self._match_category(word)
        if found is not None and key not in self.category_choices:
            self._category_of[key] = found
            return
        wc = self.category_words[key] = WordChoice(word=word, rows=[row], suggest=self._category_hint(word))
        choice = self.category_choices.get(key, ADD if self.add_categories else "")
        if choice == ADD:
            wc.choice = ADD
            self._category_of[key] = self._add_path(word)
        elif choice:
            target = self._match_category(choice)
            if target is None:
                self.errors.append(f"问题类别“{word}”要对应的“{choice}”不在本专项行动的问题表现清单中。")
                self._category_of[key] = None
            else:
                wc.choice = category_label(target)
                self._category_of[key] = target
        else:
            self._category_of[key] = None

    def _category_hint(self, word: str) -> str:
        parts = category_path(word)
        leaf = norm(parts[-1].name) if parts else ""
        if len(leaf) < 2:
            return ""
        hits = [c for c in self.categories if leaf in norm(c.name) or norm(c.name) in leaf]
        return category_label(hits[0]) if len(hits) == 1 else ""

    def _build_catalogue(self, cells: list[tuple[str, int]]) -> None:
        """A catalogue from the cells that name their categories; a bare code ("4.10") names nothing to build
        from, and its problems are left without a category (counted in `codes_only`)."""
        for word, row in cells:
            key = norm(word)
            if not any(part.name for part in category_path(word)):
                self.codes_only += 1
                self._category_of[key] = None
                continue
            if key not in self._category_of:
                self._category_of[key] = self._add_path(word)
            self.category_words.setdefault(key, WordChoice(word=word, choice=ADD)).rows.append(row)

    def _add_path(self, word: str) -> Category | None:
        """The category for a cell, creating (as stand-ins) the nodes of its path the catalogue lacks."""
        parent: Category | None = None
        node: Category | None = None
        for i, part in enumerate(category_path(word)[-2:]):  # the catalogue is two levels: 方面 → 具体表现
            pool = [c for c in [*self.categories, *self._stand_ins.values()] if _parent_code(c) == _code(parent)]
            node = self._match_part(part, pool)
            if node is None:
                code = self._new_code(part, parent)
                name = part.name or part.code
                node = Category(campaign=self.campaign, code=code, name=name[:200])
                node.parent_code = _code(parent)  # type: ignore[attr-defined]
                self._stand_ins[code] = node
                last = i == len(category_path(word)[-2:]) - 1
                self.new_categories.append(NewCategory(code, node.name, _code(parent), word if last else ""))
            parent = node
        return node

    def _new_code(self, part: PathPart, parent: Category | None) -> str:
        taken = {c.code for c in self.categories} | set(self._stand_ins)
        if part.code and part.code not in taken:
            return part.code
        prefix = f"{parent.code}." if parent is not None else ""
        width = 2 if parent is not None else 1
        if part.number is not None and f"{prefix}{part.number:0{width}d}" not in taken:
            return f"{prefix}{part.number:0{width}d}"
        n = 1
        while f"{prefix}{n:0{width}d}" in taken:
            n += 1
        return f"{prefix}{n:0{width}d}"

    def category(self, word: str) -> Category | None:
        return self._category_of.get(norm(word)) if word else None

    # ---- what the preview shows and the import does --------------------------------------------------------------

    @property
    def pending(self) -> list[str]:
        out = list(self.errors)
        left = [w.word for w in self.source_words.values() if not w.choice]
        if left:
            out.append(f"有 {len(left)} 个问题来源不在本专项行动的来源中：{'、'.join(left)}；"
                       "请逐个选择对应的来源，或加入本专项行动。")
        left = [w.word for w in self.category_words.values() if not w.choice]
        if left:
            out.append(f"有 {len(left)} 个问题类别不在问题表现清单中：{'、'.join(left)}；"
                       "请逐个选择对应的类别，或加入清单。")
        return out

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "sources": [w.to_json() for w in self.source_words.values()],
            "categories": [w.to_json() for w in self.category_words.values()] if self.had_catalogue else [],
        }

    def write(self, *, by: Any, ip: str | None) -> None:
        """Add the decided sources and categories and remember the mapped words; the campaign must exist."""
        for name in self.new_sources:
            campaign_services.source_add(campaign=self.campaign, by=by, name=name, ip=ip)
        for word, source in self.learnt.items():
            campaign_services.source_learn(source=source, by=by, word=word, ip=ip)
        saved: dict[str, Category] = {c.code: c for c in self.categories}
        for nc in self.new_categories:
            saved[nc.code] = campaign_services.category_create(
                campaign=self.campaign, by=by, code=nc.code, name=nc.name,
                parent=saved[nc.parent_code] if nc.parent_code else None, ip=ip,
            )


def _float(code: str) -> float | None:
    try:
        return float(code)
    except ValueError:
        return None


def _code(c: Category | None) -> str:
    return c.code if c is not None else ""


def _parent_code(c: Category) -> str:
    if c.pk is None:
        return str(getattr(c, "parent_code", ""))
    return c.parent.code if c.parent_id and c.parent is not None else ""


__all__ = ["ADD", "NewCategory", "PathPart", "Vocabulary", "WordChoice", "category_label", "category_path"]
