"""The site-verification checklists (附表1, 附表2) as versioned data, loaded from review/checklist_data/."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from workflow.definitions import Definition

DATA = Path(__file__).parent / "checklist_data"

# A checklist file that names no scale (the @1 files) scores from 0 to this.
DEFAULT_SCALE = 100.0

# What an expert records per criterion, with the wording of the printed table.
RESULTS: dict[str, tuple[str, str]] = {
    "conform": ("符合", "Conforms"),
    "nonconform": ("不符合", "Does not conform"),
    "not_applicable": ("不适用", "Not applicable"),
}


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    category_id: str
    weight: float = 1.0
    max_score: float | None = None
    evidence: tuple[str, ...] = ()  # meter-evidence checks that may back it (filled by the evidence stage)
    applies_to: tuple[str, ...] = ()  # applicant kinds; empty: all
    not_applicable: bool = False  # whether 不适用 may be recorded (only where the data says so)
    claims: tuple[str, ...] = ()  # form fields whose values the sheet shows beside it (what the applicant claimed)

    def applies(self, kind: str) -> bool:
        return not self.applies_to or kind in self.applies_to


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    title_en: str
    criteria: tuple[Criterion, ...]
    preamble: str = ""
    rule: str = "all"  # all: conforms when every criterion does; any: when one does ("一种或多种效果")


@dataclass(frozen=True)
class Checklist:
    code: str
    version: int
    annex: str
    title: str
    title_en: str
    group: str
    conclusion_label: str
    categories: tuple[Category, ...]
    by_id: dict[str, Criterion] = field(repr=False, compare=False, default_factory=dict)
    # The scale scores lie on (0 to this) where a criterion names none; @2 sets it as a local setting.
    max_score: float = DEFAULT_SCALE

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.version}"

    def criteria_for(self, kind: str) -> list[Criterion]:
        """The criteria an expert scores for this applicant kind, in the table's order."""
        return [c for cat in self.categories for c in cat.criteria if c.applies(kind)]

    def scale(self, criterion: Criterion) -> float:
        """The highest score this criterion takes: its own max_score, else the checklist's."""
        return criterion.max_score if criterion.max_score is not None else self.max_score


def _parse(raw: dict[str, object], source: str) -> Checklist:
    categories = []
    by_id: dict[str, Criterion] = {}
    for cat in raw["categories"]:  # type: ignore[attr-defined]
        criteria = []
        for c in cat["criteria"]:
            criterion = Criterion(
                id=str(c["id"]),
                text=str(c["text"]),
                category_id=str(cat["id"]),
                weight=float(c.get("weight", 1)),
                max_score=float(c["max_score"]) if "max_score" in c else None,
                evidence=tuple(c.get("evidence", ())),
                applies_to=tuple(c.get("applies_to", ())),
                not_applicable=bool(c.get("not_applicable", False)),
                claims=tuple(c.get("claims", ())),
            )
            if criterion.id in by_id:
                raise ValueError(f"{source}: criterion {criterion.id} appears twice")
            by_id[criterion.id] = criterion
            criteria.append(criterion)
        rule = str(cat.get("rule", "all"))
        if rule not in ("all", "any"):
            raise ValueError(f"{source}: category {cat['id']} has rule '{rule}' (all or any)")
        categories.append(
            Category(
                id=str(cat["id"]),
                title=str(cat["title"]),
                title_en=str(cat.get("title_en", cat["title"])),
                criteria=tuple(criteria),
                preamble=str(cat.get("preamble", "")),
                rule=rule,
            )
        )
    return Checklist(
        code=str(raw["code"]),
        version=int(raw["version"]),  # type: ignore[call-overload]
        annex=str(raw["annex"]),
        title=str(raw["title"]),
        title_en=str(raw.get("title_en", raw["title"])),
        group=str(raw.get("group", "")),
        conclusion_label=str(raw.get("conclusion_label", "核查结论")),
        categories=tuple(categories),
        by_id=by_id,
        max_score=float(raw.get("max_score", DEFAULT_SCALE)),  # type: ignore[arg-type]
    )


@cache
def load(ref: str) -> Checklist:
    """A checklist by reference, e.g. 'emc-checklist-enterprise@1'."""
    code, _, version = ref.partition("@")
    path = DATA / f"{code}.v{version}.toml"
    if not version or not path.exists():
        raise KeyError(f"no checklist '{ref}' in {DATA}")
    checklist = _parse(tomllib.loads(path.read_text(encoding="utf-8")), path.name)
    if checklist.ref != ref:
        raise ValueError(f"{path.name} declares {checklist.ref}, not {ref}")
    return checklist


def for_application(definition: Definition, kind: str) -> Checklist | None:
    """The checklist the programme version names for this applicant kind (None: the programme has none)."""
    ref = definition.checklists.get(kind)
    return load(ref) if ref else None


def shipped() -> list[Checklist]:
    out = []
    for path in sorted(DATA.glob("*.v*.toml")):
        code, _, version = path.name.removesuffix(".toml").rpartition(".v")
        out.append(load(f"{code}@{version}"))
    return out
