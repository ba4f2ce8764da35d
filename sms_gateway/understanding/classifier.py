"""Text in, Understanding out: intent, category, place and region, tracking code, confidences."""
from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from ..domain.city import CityData, load_city
from ..domain.understanding import Understanding
from .lexicon import Match, PhraseIndex, load_category_lexicon, load_intent_lexicon, longest_first
from .normalize import normalize, to_latin_digits

_CODE = re.compile(r"(?<![\d])(\d(?:[\d]|[-\s](?=\d)){5,12}\d)(?![\d])")
_DOUBLED = re.compile(r"(.)\1+")
_CONTRAST = {"ولی", "اما", "ولیکن", "بلکه", "vali", "ama", "منتها", "فقط"}
_FINE = ["مشکل نداره", "مشکلی نداره", "مشکل نداریم", "مشکلی نداریم", "مشکلی نیست", "مشکل نیست", "مرتب", "درسته",
         "درست کردن", "پر کردن", "تعمیر کردن", "دستشون درد نکنه", "دستتون درد نکنه", "خوبه", "عالیه",
         "حل شد", "رسیدگی کردن", "مرتب میاد", "مرتب میبرن", "مهم نیست", "رو بردن", "moshkel nadare"]
_EMPHASIS = {"بدتر", "بدترش", "اصل", "اصلی", "مهمتر", "مخصوصا", "بخصوص", "خصوصا"}
_STREET_CUES = {"خیابان", "خیابون", "بلوار", "خ", "میدان", "میدون", "khiaban", "meydan"}
WEIGHTS = {"strong": 3.0, "medium": 1.5, "weak": 0.5}


class Classifier:
    """Built once from city data; classify() is pure and thread-safe."""

    def __init__(self, city: CityData | None = None):
        self.city: CityData = city or load_city()
        lex = load_intent_lexicon()
        phrasings = load_category_lexicon()
        self.index = PhraseIndex()
        for place in self.city.places:
            self.index.add_all((place.name,) + place.variants, "place", place)
        self.index.add_all(self.city.outside, "outside", None)
        for cat in self.city.categories:
            for strength, weight in WEIGHTS.items():
                self.index.add_all(phrasings.get(cat.code, {}).get(strength, ()), "category", cat.code, weight)
        for name in ("opt_out", "opt_out_topic", "status_words", "status_phrases", "identity"):
            self.index.add_all(lex[name], name, None)
        for service, phrases in lex["emergency"].items():
            self.index.add_all(phrases, "emergency", service)
        self.index.add_all(_FINE, "fine", None)
        self._opt_out_whole = {normalize(p) for p in lex["opt_out_whole"]}
        self._opt_in_whole = {normalize(p) for p in lex["opt_in_whole"]}
        self._fillers = {normalize(w) for w in lex["fillers"]["words"]}
        self._cues = {normalize(c) for c in self.city.place_cues}
        self._ambiguous = {normalize(a) for a in self.city.ambiguous}
        self._fuzzy_keys: dict[str, object] = {}
        for place in self.city.places:
            for variant in (place.name,) + place.variants:
                key = normalize(variant)
                if len(key) >= 5 and key not in self._ambiguous:
                    self._fuzzy_keys[key] = place
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}
        self._fuzzy_by_initial: dict[str, list[str]] = {}
        for key in self._fuzzy_keys:  # a typo keeps the first letter: compare only names that share it
            self._fuzzy_by_initial.setdefault(key[0], []).append(key)

    def classify(self, text: str) -> Understanding:
        """Read one SMS. Never raises on any string."""
        norm = normalize(text or "")
        tokens = norm.split()
        if not any(ch.isalnum() for ch in norm):
            return Understanding("unclear")
        matches = self.index.find(tokens)
        kinds = {m.kind for m in matches}
        content = [t for t in tokens if t not in self._fillers and not t.isdigit()]
        if len(content) <= 3:  # «لغو»، «لغوووو»، «لغو ۱۱ لطفا»: the whole message is the command
            whole = _DOUBLED.sub(r"\1", " ".join(t for t in tokens if t not in self._fillers))
            if whole in self._opt_in_whole or norm in self._opt_in_whole:
                return Understanding("opt_in")
            if whole in self._opt_out_whole or norm in self._opt_out_whole:
                return Understanding("opt_out")
        if "opt_out" in kinds and "opt_out_topic" in kinds:
            return Understanding("opt_out")

        code = self._tracking_code(text)
        if code and ("status_words" in kinds or "status_phrases" in kinds or len(content) <= 1):
            return Understanding("status_query", tracking_code=code)

        place, place_conf = self._place(tokens, matches)
        category, cat_conf = self._category(tokens, matches)
        region = place.region if place else None
        where = {"neighbourhood": place.name if place else None, "region": region, "place_confidence": place_conf}
        service = self._emergency(matches, set(tokens), category)
        if service:
            return Understanding("emergency", category=category, category_confidence=cat_conf,
                                 emergency_service=service, **where)
        if "status_phrases" in kinds and place is None:
            return Understanding("status_query")
        if "identity" in kinds:
            return Understanding("identity_required")
        if (category and cat_conf >= 0.3) or place or len(content) >= 3:
            outside = next((m.phrase for m in matches if m.kind == "outside"), None) if place is None else None
            return Understanding("report", category=category or "other", category_confidence=cat_conf,
                                 outside_city=outside, **where)
        return Understanding("unclear")

    @staticmethod
    def _tracking_code(text: str) -> str | None:
        for found in _CODE.finditer(to_latin_digits(text or "")):
            digits = re.sub(r"\D", "", found.group(1))
            if 6 <= len(digits) <= 10 and not (digits.startswith("09") and len(digits) == 11):
                return digits
        return None

    def _place(self, tokens: list[str], matches: list[Match]):
        places = [m for m in longest_first([m for m in matches if m.kind == "place"]) if self._plausible(tokens, m)]
        if places:
            best = max(places, key=lambda m: (m.end - m.start, self._cued(tokens, m.start), -m.start))
            return best.value, 1.0
        return self._fuzzy_place(tokens, {i for m in matches for i in range(m.start, m.end) if m.kind != "outside"})

    def _plausible(self, tokens: list[str], m: Match) -> bool:
        """A word like «انقلاب» or «بازار» is a place only as written, after a cue that fits its kind."""
        if m.phrase not in self._ambiguous:
            return True
        if " ".join(tokens[m.start:m.end]) != m.phrase or m.start == 0:
            return False
        before = m.start - 1
        if tokens[before] in ("ها", "های", "ی") and before > 0:  # «کوچه های بازار»
            before -= 1
        cue = tokens[before]
        if cue in _STREET_CUES:
            return m.value.kind in ("street", "square") or any(
                normalize(v).split()[0] in _STREET_CUES for v in m.value.variants)
        return cue in self._cues

    def _cued(self, tokens: list[str], start: int) -> bool:
        return start > 0 and tokens[start - 1] in self._cues

    def _fuzzy_place(self, tokens: list[str], matched: set[int]):
        """Misspelt place names («طاهر ابادد»): close to a known name of five letters or more."""
        best = None
        for n in (2, 1):
            for i in range(len(tokens) - n + 1):
                span = range(i, i + n)
                if any(j in matched or tokens[j] in self._fillers or tokens[j] in _COMMON_WORDS for j in span):
                    continue
                query = " ".join(tokens[i:i + n])
                if len(query) < 5 or query.isdigit():
                    continue
                hit = self._closest_place_name(query)
                if hit and (best is None or hit[1] > best[1]):
                    best = hit
        if best is None:
            return None, 0.0
        return self._fuzzy_keys[best[0]], round(best[1] / 100 * 0.9, 2)

    def _closest_place_name(self, query: str) -> tuple[str, float] | None:
        """Memoised: the same words come back in message after message."""
        if query in self._fuzzy_cache:
            return self._fuzzy_cache[query]
        hit = None
        choices = self._fuzzy_by_initial.get(query[0])
        if choices:
            found = process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=86)
            # about the same length too: «بچه کوچیک» is not «فین کوچیک»
            if found and abs(len(found[0]) - len(query)) <= 2:
                hit = (found[0], found[1])
        if len(self._fuzzy_cache) >= 50_000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[query] = hit
        return hit

    def _category(self, tokens: list[str], matches: list[Match]) -> tuple[str | None, float]:
        cats = longest_first([m for m in matches if m.kind == "category"])
        if not cats:
            return None, 0.0
        fine_at = [m.start for m in matches if m.kind == "fine"]
        emphasis_at = [i for i, t in enumerate(tokens) if t in _EMPHASIS]
        contrast_at = [i for i, t in enumerate(tokens) if t in _CONTRAST]
        weights: dict[tuple[str, str], float] = {}
        first_seen: dict[str, int] = {}
        for m in cats:
            weight = m.weight * (0.15 if self._praised(tokens, m, fine_at) else 1.0)
            if any(0 < m.start - e <= 8 for e in emphasis_at):
                weight *= 2.0  # «از همه بدتر …»، «مشکل اصلی …»
            elif any(c < m.start for c in contrast_at):
                weight *= 1.3
            key = (m.value, m.phrase)  # «جوب … جوب»: saying it twice is not two problems
            weights[key] = max(weights.get(key, 0.0), weight)
            if weight >= m.weight and m.weight >= WEIGHTS["medium"]:
                first_seen.setdefault(m.value, m.start)
        scores: dict[str, float] = {}
        for (value, _phrase), weight in weights.items():
            scores[value] = scores.get(value, 0.0) + weight
        if first_seen:  # the problem named first is usually the complaint; what follows is its effect
            scores[min(first_seen, key=lambda c: first_seen[c])] += 1.5
        ranked = sorted(scores, key=lambda c: (-scores[c], first_seen.get(c, 99)))
        top = scores[ranked[0]]
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        confidence = min(1.0, top / 4.5) * (top / (top + second))
        return ranked[0], round(confidence, 2)

    @staticmethod
    def _praised(tokens: list[str], m: Match, fine_at: list[int]) -> bool:
        """«زباله مشکلی نداره»، «آسفالتش خوبه»، «مشکل آسفالت نیست»: named, but not the complaint."""
        if m.start > 0 and tokens[m.start - 1] in ("مشکل", "مشکلی") and "نیست" in tokens[m.end:m.end + 2]:
            return True
        return any(m.end <= f <= m.end + 3 and not any(t in _CONTRAST for t in tokens[m.end:f]) for f in fine_at)

    @staticmethod
    def _emergency(matches: list[Match], words: set[str], category: str | None) -> str | None:
        found = {m.value for m in matches if m.kind == "emergency"}
        if not ({"urgency", "ambulance"} & found):
            found -= {"accident", "police", "suspicious"}  # theft of a grate is a report; a fight now is not
        if "suspicious" in found:
            found.add("police")
        if "injury" in found and category != "stray_animals":
            found.add("ambulance")
        if "ریخت" in words and words & _STRUCTURES:
            found.add("fire")  # a wall or roof came down: the fire brigade does rescue
        if words & _WIRES and words & _LOOSE:
            found.add("ambulance")  # a bare or fallen live wire
        for service in ("gas", "fire", "ambulance", "police", "accident"):
            if service in found:
                return service
        return None


# Everyday words one letter away from a place name («پنجاه» / «پنجشاه»): never fuzzy-matched.
_COMMON_WORDS = {"پنجاه", "پنجره", "پنجشنبه", "شصت", "هفتاد", "هشتاد", "نود", "دویست", "سیصد", "پانصد", "هزار",
                 "ماشین", "ماشینا", "خیابون", "خیابان", "کوچه", "کوچیک", "بزرگ", "همسایه", "بچه", "مدرسه", "مسجد"}
_STRUCTURES = {"سقف", "دیوار", "ساختمان", "ساختمون", "سقفش", "دیوارش"}
_WIRES = {"سیم", "سیمش", "سیمای", "سیمها", "kabl", "sim"}
_LOOSE = {"پاره", "لخت", "افتاده", "قطع", "اتصالی", "جرقه"}

