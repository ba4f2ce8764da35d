"""City data (places, regions, categories, SLA hours) and the Persian intent lexicon, loaded from TOML."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CITY_FILE = DATA_DIR / "kashan.toml"
INTENTS_FILE = DATA_DIR / "intents.toml"


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    region: int | None
    confidence: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    department: str
    sla_hours: int
    strong: tuple[str, ...]
    medium: tuple[str, ...]
    weak: tuple[str, ...]


@dataclass(frozen=True)
class CityData:
    city: str
    places: tuple[Place, ...]
    categories: tuple[Category, ...]
    ambiguous: frozenset[str]
    place_cues: tuple[str, ...]
    outside: tuple[str, ...]

    def category(self, code: str | None) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def place(self, name: str | None) -> Place | None:
        return next((p for p in self.places if p.name == name), None)


@lru_cache(maxsize=8)
def load_city(path: str | Path = DEFAULT_CITY_FILE) -> CityData:
    """Read a city file; a wrong file fails loudly with the file and entry named."""
    path = Path(path or DEFAULT_CITY_FILE)
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        places = tuple(Place(p["name"], p.get("kind", "neighbourhood"), p.get("region") or None,
                             p.get("confidence", "unknown"), tuple(p.get("variants", ())))
                       for p in raw["place"])
        categories = tuple(Category(c["code"], c["label"], c["department"], int(c["sla_hours"]),
                                    tuple(c.get("strong", ())), tuple(c.get("medium", ())), tuple(c.get("weak", ())))
                           for c in raw["category"])
    except KeyError as exc:
        raise ValueError(f"{path}: an entry lacks the key {exc}") from None
    return CityData(raw.get("city", ""), places, categories, frozenset(raw.get("ambiguous", ())),
                    tuple(raw.get("place_cues", ())), tuple(raw.get("outside", ())))


@lru_cache(maxsize=1)
def load_intent_lexicon(path: str | Path = INTENTS_FILE) -> dict:
    with Path(path).open("rb") as fh:
        return tomllib.load(fh)
