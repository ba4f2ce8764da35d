"""Phrase matching over normalised tokens, forgiving Persian suffixes and joined or split words."""
from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .normalize import normalize

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@lru_cache(maxsize=1)
def load_intent_lexicon() -> dict:
    """How citizens say what they want beyond naming a problem (data/intents.toml)."""
    with (DATA_DIR / "intents.toml").open("rb") as fh:
        return tomllib.load(fh)



# Colloquial and written suffixes a citizen glues to a word: plurals, possessives, «است», «را».
SUFFIXES = sorted({
    "هایی", "هامون", "هاتون", "هاشون", "هاش", "های", "ها", "ای", "اشون", "امون", "اتون", "ام", "ات", "اش",
    "مون", "تون", "شون", "یی", "ی", "ا", "ش", "م", "ت", "ه", "یه", "ست", "شو", "مو", "رو", "و", "ن", "ید", "یم",
    "ند", "ان", "ین", "s", "e", "ye", "ha", "haye", "aye", "a", "mun", "moon",
}, key=lambda s: (-len(s), s))  # a fixed order: nothing may depend on the hash seed


_CANDIDATE_CACHE = 50_000


class Match(NamedTuple):
    kind: str       # e.g. "place", "category", "intent"
    value: Any      # the place, the category code, …
    weight: float
    start: int      # token index
    end: int        # one past the last token
    phrase: str


@lru_cache(maxsize=65536)
def base_forms(token: str) -> tuple[str, ...]:
    """The token and what it can be with one suffix taken off (and «ه» put back: کوچمون → کوچه)."""
    forms = {token}
    for suffix in SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            stem = token[: -len(suffix)]
            forms.add(stem)
            forms.add(stem + "ه")
    return tuple(sorted(forms))


class PhraseIndex:
    """Phrases of one to four tokens, looked up by their first token."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, Any, float]]] = {}
        self._joined: dict[str, list[tuple[str, Any, float, str]]] = {}
        self._candidates: dict[str, tuple[tuple[tuple[str, ...], str, Any, float], ...]] = {}

    def add(self, phrase: str, kind: str, value: Any, weight: float = 1.0) -> None:
        self._candidates.clear()
        tokens = tuple(normalize(phrase).split())
        if not tokens:
            return
        self._by_first.setdefault(tokens[0], []).append((tokens, kind, value, weight))
        if len(tokens) > 1:  # the same words typed without spaces
            self._by_first.setdefault("".join(tokens), []).append((("".join(tokens),), kind, value, weight))
        if len(tokens) == 1 and len(tokens[0]) >= 5:
            self._joined.setdefault(tokens[0], []).append((kind, value, weight, phrase))

    def add_all(self, phrases: Iterable[str], kind: str, value: Any, weight: float = 1.0) -> None:
        for phrase in phrases:
            self.add(phrase, kind, value, weight)

    def keys(self) -> list[str]:
        return list(self._by_first)

    def candidates(self, token: str) -> tuple[tuple[tuple[str, ...], str, Any, float], ...]:
        """Phrases that can start at this token, over all its base forms; memoised per token because a
        city's vocabulary is small and every message repeats it."""
        found = self._candidates.get(token)
        if found is None:
            found = tuple(entry for form in base_forms(token) for entry in self._by_first.get(form, ()))
            if len(self._candidates) >= _CANDIDATE_CACHE:
                self._candidates.clear()
            self._candidates[token] = found
        return found

    def find(self, tokens: list[str]) -> list[Match]:
        """Every phrase occurring in the tokens, each token allowed its suffixes."""
        found: list[Match] = []
        n = len(tokens)
        joined = self._joined
        forms = [base_forms(t) for t in tokens]
        for i in range(n):
            for phrase, kind, value, weight in self.candidates(tokens[i]):
                size = len(phrase)
                if size == 1:
                    found.append(Match(kind, value, weight, i, i + 1, phrase[0]))
                elif (i + size <= n and phrase[1] in forms[i + 1]
                      and (size == 2 or all(phrase[k] in forms[i + k] for k in range(2, size)))):
                    found.append(Match(kind, value, weight, i, i + size, " ".join(phrase)))
            if i + 1 < n and joined:  # a single-word phrase typed split in two: «پشت مشهد» for «پشتمشهد»
                for kind, value, weight, joined_phrase in joined.get(tokens[i] + tokens[i + 1], ()):
                    found.append(Match(kind, value, weight, i, i + 2, joined_phrase))
        return found


def longest_first(matches: list[Match]) -> list[Match]:
    """Drop matches lying inside a longer match of the same kind."""
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if not any(k.kind == m.kind and k.start <= m.start and m.end <= k.end
                   and (k.value == m.value or k.end - k.start > m.end - m.start) for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)
