"""City data: the municipality's name and line, its regions, departments, categories with their SLA
hours, and its places. Data, not code: one TOML file per city (bundled by name, or any path)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CITIES_DIR = Path(__file__).resolve().parent.parent / "data" / "cities"


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    region: int | None
    confidence: str
    variants: tuple[str, ...]

    @property
    def short_name(self) -> str:
        """The name as an SMS gives it: «سیدها» of «سیدها (فین)», the first of «پل آذر / پل غدیر»."""
        name = self.name.split(" (")[0].split(" / ")[0]
        words = name.split()
        while len(" ".join(words)) > 24 and len(words) > 2:
            words = words[:-1]
        return " ".join(words)


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    department: str
    sla_hours: int
    short_label: str = ""  # for SMS, where every character counts: «آب‌گرفتگی» for «آب‌گرفتگی و آب‌های سطحی»


@dataclass(frozen=True)
class Unit:
    """An executive unit tickets are referred to: a department, optionally in one region."""

    department: str
    region: int | None
    label: str                    # «خدمات شهری منطقه ۲»

    @property
    def code(self) -> str:
        """What tickets and staff accounts store: «urban_services», «urban_services:2»."""
        return self.department if self.region is None else f"{self.department}:{self.region}"


@dataclass(frozen=True)
class Region:
    number: int
    name: str


@dataclass(frozen=True)
class CityData:
    key: str                      # "kashan": the bundled name, or the file's stem
    name: str                     # «کاشان»
    line: str                     # the SMS line citizens write to
    phone: str                    # the number citizens call (137)
    authenticated_channel: str    # where identity-bound services are done
    regions: tuple[Region, ...]
    departments: dict[str, str]   # code → Persian label
    categories: tuple[Category, ...]
    places: tuple[Place, ...]
    ambiguous: frozenset[str]     # place names that are ordinary words too: matched after a cue only
    place_cues: tuple[str, ...]
    outside: tuple[str, ...]      # towns outside the municipality
    units: tuple[Unit, ...] = ()  # the executive units tickets are referred to

    def category(self, code: str | None) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def place(self, name: str | None) -> Place | None:
        return next((p for p in self.places if p.name == name), None)

    def region_name(self, number: int | None) -> str | None:
        return next((r.name for r in self.regions if r.number == number), None)

    def sla_hours(self, category: str | None) -> int:
        found = self.category(category) or self.category("other")
        return found.sla_hours if found else 72

    def category_label(self, category: str | None, short: bool = False) -> str:
        found = self.category(category)
        if found is None:
            return "سایر"
        return found.short_label if short else found.label

    def unit(self, code: str | None) -> Unit | None:
        """A unit by its code («urban_services:2») or its Persian label."""
        return next((u for u in self.units if code in (u.code, u.label)), None) if code else None

    def unit_label(self, code: str | None) -> str:
        found = self.unit(code)
        return found.label if found else (code or "—")

    def unit_for(self, category: str | None, region: int | None) -> Unit | None:
        """The unit a ticket of this category in this region would usually go to: its department's unit
        in that region if the city lists one, else the department's city-wide unit."""
        found = self.category(category) or self.category("other")
        if found is None:
            return None
        in_region = self.unit(f"{found.department}:{region}") if region else None
        return in_region or self.unit(found.department)

    def unit_name(self, category: str | None, region: int | None) -> str:
        """Where a ticket of this category in this region is done: «خدمات شهری منطقه ۲»."""
        found = self.category(category) or self.category("other")
        department = self.departments.get(found.department, "") if found else ""
        region_name = self.region_name(region)
        return f"{department} {region_name}".strip() if region_name else department


def bundled_cities() -> list[str]:
    return sorted(p.stem for p in CITIES_DIR.glob("*.toml"))


def city_file(name_or_path: str) -> Path:
    """A bundled city by name («kashan», «isfahan»); any other value is a file path."""
    bundled = CITIES_DIR / f"{name_or_path or 'kashan'}.toml"
    return bundled if bundled.exists() else Path(name_or_path)


@lru_cache(maxsize=8)
def load_city(name_or_path: str = "kashan") -> CityData:
    """Read a city; a wrong file fails loudly with the file and entry named."""
    path = city_file(name_or_path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"city data {name_or_path!r}: no bundled city of that name and no such file") from None
    try:
        return _city(path.stem, raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def _city(key: str, raw: dict[str, Any]) -> CityData:
    about = raw["city"]
    places = tuple(Place(p["name"], p.get("kind", "neighbourhood"), p.get("region") or None,
                         p.get("confidence", "unknown"), tuple(p.get("variants", ()))) for p in raw["place"])
    categories = tuple(Category(c["code"], c["label"], c["department"], int(c["sla_hours"]),
                                c.get("short_label", c["label"])) for c in raw["category"])
    regions = tuple(Region(int(r["number"]), r["name"]) for r in raw["region"])
    departments = {d["code"]: d["label"] for d in raw["department"]}
    unknown = {c.department for c in categories} - set(departments)
    if unknown:
        raise ValueError(f"categories name departments that are not listed: {', '.join(sorted(unknown))}")
    numbers = {r.number for r in regions}
    stray = sorted({p.name for p in places if p.region is not None and p.region not in numbers})
    if stray:
        raise ValueError(f"places in regions the city does not have: {', '.join(stray[:5])}")
    words = raw.get("place_words", {})
    return CityData(key, about["name"], str(about["line"]), str(about.get("phone", "137")),
                    about["authenticated_channel"], regions, departments, categories, places,
                    frozenset(words.get("ambiguous", ())), tuple(words.get("place_cues", ())),
                    tuple(words.get("outside", ())), _units(raw, departments, regions))


def _units(raw: dict[str, Any], departments: dict[str, str], regions: tuple[Region, ...]) -> tuple[Unit, ...]:
    """The city's [[unit]] entries; a city that lists none has one city-wide unit per department."""
    entries = raw.get("unit") or [{"department": code} for code in departments]
    names = {r.number: r.name for r in regions}
    units = []
    for entry in entries:
        department, region = entry["department"], entry.get("region") or None
        if department not in departments:
            raise ValueError(f"unit of a department that is not listed: {department}")
        if region is not None and region not in names:
            raise ValueError(f"unit {department} in a region the city does not have: {region}")
        label = entry.get("label") or (f"{departments[department]} {names[region]}" if region
                                       else departments[department])
        units.append(Unit(department, region, label))
    codes = [u.code for u in units]
    if len(set(codes)) != len(codes):
        raise ValueError(f"units listed twice: {', '.join(sorted({c for c in codes if codes.count(c) > 1}))}")
    return tuple(units)
