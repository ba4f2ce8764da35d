"""Where a message says the problem is: the city's places by their names and variants, by the name
without its «خیابان/بلوار/میدان…» (after a cue when that short name is an ordinary word), in Finglish
(by the consonant skeleton both scripts share), misspelt (fuzzy, same first letter, similar length), and
towns outside the municipality."""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ..domain.city import CityData, Place
from .features import skeleton_key, skeleton_keys
from .lexicon import Match, PhraseIndex, longest_first
from .normalize import normalize

# What people put in front of a name, and titles in it: the name without them is a variant too.
KIND_WORDS = ("خیابان", "بلوار", "میدان", "کوی", "شهرک", "پارک", "بوستان", "پل", "گذر", "کوچه", "محله", "زیارت",
              "بقعه", "مسجد", "امامزاده", "چهارراه", "سه راه", "فرهنگسرای", "دروازه")
TITLES = ("شهید", "شهیدان", "سردار شهید", "آیت الله", "ایت الله", "مرحوم", "حضرت", "علامه", "شهدای")
STREET_CUES = {"خیابان", "خیابون", "بلوار", "خ", "میدان", "میدون", "khiaban", "meydan", "kh", "bolvar", "blvd",
               "meydoon", "khiyaban", "khiaboon", "khiyabun", "khiabane", "khiyabane"}
LATIN_CUES = {"mahale", "mahaleye", "kooche", "kuche", "koche", "khiaban", "khiaboon", "khiyaban", "kh", "bolvar",
              "meydan", "meydoon", "meidan", "shahrak", "koye", "kuye", "park", "boostan", "bustan", "pol", "too",
              "tu", "sare", "nazdik", "posht", "jolo", "jeloye", "kenar", "az", "dar", "street", "st", "blvd"}
COMMON_WORDS = {"پنجاه", "پنجره", "پنجشنبه", "شصت", "هفتاد", "هشتاد", "نود", "دویست", "سیصد", "پانصد", "هزار",
                "ماشین", "ماشینا", "خیابون", "خیابان", "کوچه", "کوچیک", "بزرگ", "همسایه", "بچه", "مدرسه", "مسجد"}
MIN_SKELETON = 4  # consonants: shorter Finglish words match too many names


@dataclass(frozen=True)
class Found:
    place: Place | None
    confidence: float
    outside: str | None = None


class PlaceFinder:
    def __init__(self, city: CityData, index: PhraseIndex):
        self.city = city
        self.index = index
        self.cues = {normalize(c) for c in city.place_cues}
        self.ambiguous = {normalize(a) for a in city.ambiguous}
        outside = {normalize(t) for t in city.outside}
        named = {normalize(n) for p in city.places for n in (p.name, *p.variants)}
        cores: dict[str, Place] = {}
        self.core_kind: dict[str, str] = {}  # a one-word core, and the word it needs in front («خیابان»)
        for place in city.places:
            names = (place.name,) + place.variants
            index.add_all(names, "place", place)
            shortened = {(normalize(n.split("(")[0]), "") for n in names if "(" in n}  # «سیدها (فین)»: «سیدها»
            for name in names:
                for core, kind in _cores(normalize(name)) | shortened:
                    if core not in named and core not in outside and core not in cores:
                        cores[core] = place
                        if len(core.split()) == 1:
                            self.core_kind[core] = kind
        for core, place in cores.items():
            if len(core.split()) == 1:
                self.ambiguous.add(core)  # «طالقانی» alone is a person; «خیابون طالقانی» the street
            index.add(core, "place", place)
        index.add_all(city.outside, "outside", None)
        self._fuzzy: dict[str, Place] = {}
        self._skeletons: dict[str, Place | None] = {}
        for town in sorted(outside):  # first: a town's name is the town, not a boulevard named after it
            self._add_skeleton(town, None)
        for place in city.places:
            for name in (place.name,) + place.variants:
                key = normalize(name)
                if len(key) >= 6 and key not in self.ambiguous and key.split()[0] not in _KIND_TOKENS:
                    self._fuzzy.setdefault(key, place)
                for form in sorted({key} | {core for core, _ in _cores(key)}):
                    self._add_skeleton(form, place)
        for core, place in cores.items():
            if len(core) >= 6 and core not in self.ambiguous:
                self._fuzzy.setdefault(core, place)
        self._cued_only = {skeleton_key(a.split()) for a in self.ambiguous}
        self._by_initial: dict[str, list[str]] = {}
        for key in sorted(self._fuzzy):  # a typo keeps the first letter: compare only names that share it
            self._by_initial.setdefault(key[0], []).append(key)
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}

    def _add_skeleton(self, name: str, place: Place | None) -> None:
        for key in skeleton_keys(name.split()):
            if len(key) >= MIN_SKELETON and key not in self._skeletons:
                self._skeletons[key] = place

    def find(self, tokens: list[str], matches: list[Match], skip: frozenset[str] = frozenset()) -> Found:
        places = longest_first([m for m in matches if m.kind == "place" and self.plausible(tokens, m)])
        latin = self._finglish(tokens)
        if places:
            best = max(places, key=lambda m: (m.end - m.start, self._cued(tokens, m.start), -m.start))
            if latin is None or latin[0] <= best.end - best.start or latin[2] is None:
                return Found(best.value, 1.0)
        if latin is not None:
            n, i, place = latin
            return Found(place, 0.9) if place is not None else Found(None, 0.0, " ".join(tokens[i:i + n]))
        outside = next((m.phrase for m in matches if m.kind == "outside"), None)
        if outside is not None:
            return Found(None, 0.0, outside)
        taken = {i for m in matches for i in range(m.start, m.end) if m.kind != "outside"}
        return self._fuzzy_place(tokens, taken, skip)

    def plausible(self, tokens: list[str], m: Match) -> bool:
        """An ordinary word such as «انقلاب» or «طالقانی» is a place only as written, after a cue that fits."""
        if m.phrase not in self.ambiguous:
            return True
        if " ".join(tokens[m.start:m.end]) != m.phrase or m.start == 0:
            return False
        before = m.start - 1
        if tokens[before] in ("ها", "های", "ی") and before > 0:  # «کوچه های بازار»
            before -= 1
        cue = tokens[before]
        kind = self.core_kind.get(m.phrase)
        if kind:  # «امام» of «خیابان امام» is that street only after «خیابان», not after «میدان»
            return cue == kind or (kind in self.cues and cue not in STREET_CUES and cue in self.cues)
        if cue in STREET_CUES:
            return m.value.kind != "neighbourhood" or any(normalize(v).split()[0] in STREET_CUES
                                                          for v in m.value.variants)
        return cue in self.cues

    def _cued(self, tokens: list[str], start: int) -> bool:
        return start > 0 and tokens[start - 1] in self.cues

    def _finglish(self, tokens: list[str]) -> tuple[int, int, Place | None] | None:
        """Latin-script words whose consonants spell a place: «taleghani» is «طالقانی». (words, start, place)"""
        latin = [w.isascii() and w.isalpha() for w in tokens]
        if not any(latin):
            return None
        for n in (3, 2, 1):
            for i in range(len(tokens) - n + 1):
                if not all(latin[i:i + n]):
                    continue
                words = tokens[i:i + n]
                key = skeleton_key(words)
                if key not in self._skeletons:
                    continue
                place = self._skeletons[key]
                cued = i > 0 and tokens[i - 1] in LATIN_CUES
                if n == 1 and not cued and (place is None or key in self._cued_only):
                    continue
                return n, i, place
        return None

    def _fuzzy_place(self, tokens: list[str], taken: set[int], skip: frozenset[str]) -> Found:
        """Misspelt place names («طاهر ابادد»): close to a known name of six letters or more."""
        usable = [i not in taken and len(t) >= 3 and not t.isascii() and t not in COMMON_WORDS and t not in skip
                  and t not in _KIND_TOKENS for i, t in enumerate(tokens)]
        best: tuple[str, float] | None = None
        for n in (2, 1):
            for i in range(len(tokens) - n + 1):
                if not all(usable[i:i + n]) or tokens[i][0] not in self._by_initial:
                    continue
                query = " ".join(tokens[i:i + n])
                if len(query) < 6:
                    continue
                hit = self._closest(query)
                if hit and (best is None or hit[1] > best[1]):
                    best = hit
        if best is None:
            return Found(None, 0.0)
        return Found(self._fuzzy[best[0]], round(best[1] / 100 * 0.9, 2))

    def _closest(self, query: str) -> tuple[str, float] | None:
        """Memoised: the same words come back in message after message."""
        if query in self._fuzzy_cache:
            return self._fuzzy_cache[query]
        hit = None
        choices = self._by_initial.get(query[0])
        if choices:
            found = process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=86)
            if found and abs(len(found[0]) - len(query)) <= 2:  # about the same length: «بچه کوچیک» is not «فین کوچیک»
                hit = (found[0], float(found[1]))
        if len(self._fuzzy_cache) >= 50_000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[query] = hit
        return hit


def _cores(name: str) -> set[tuple[str, str]]:
    """«خیابان شهید رجایی طاهرآباد» → («شهید رجایی طاهرآباد», «خیابان»), («رجایی طاهرآباد», «خیابان»); «سیدها (فین)»
    → («سیدها», «»): the name as people shorten it, with the word it stood after."""
    out: set[tuple[str, str]] = set()
    words = name.split()
    kind = ""
    changed = True
    while changed and len(words) > 1:
        changed = False
        for prefix in (*KIND_WORDS, *TITLES):
            p = normalize(prefix).split()
            if words[:len(p)] == p and len(words) > len(p):
                kind = kind or " ".join(p) if prefix in KIND_WORDS else kind
                words = words[len(p):]
                out.add((" ".join(words), kind))
                changed = True
    return {(c, k) for c, k in out if len(c) >= 3}


_KIND_TOKENS = {normalize(k) for k in KIND_WORDS if " " not in k} | {"خیابون", "میدون"}
