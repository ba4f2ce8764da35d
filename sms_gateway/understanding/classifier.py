"""Text in, Understanding out. Rules where rules are strong (whole-message commands, tracking codes, places,
danger cues), the learned model (model.py) for intent, category and the emergency number."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ..domain.city import CityData, load_city
from ..domain.understanding import Understanding
from .codes import quoted_code
from .lexicon import Match, PhraseIndex, load_intent_lexicon
from .model import MODEL_FILE, Model, load_model
from .normalize import normalize
from .places import PlaceFinder

_DOUBLED = re.compile(r"(.)\1+")
_STRUCTURES = {"سقف", "دیوار", "ساختمان", "ساختمون", "سقفش", "دیوارش"}
_WIRES = {"سیم", "سیمش", "سیمای", "سیمها", "kabl", "sim"}
_LOOSE = {"پاره", "لخت", "افتاده", "قطع", "اتصالی", "جرقه"}
# A danger cue («آتش», «زخمی», a fallen wire…) flags an emergency unless the model is sure it is not one:
# on held-out writers this kept every emergency the cues found and halved their false alarms.
CUE_MARGIN = -1.0
DESCRIPTION_WORDS = 6  # a text with fewer words than this besides places and greetings is a place or a detail
NAMES_PROBLEM_CONFIDENCE = 0.95  # below it, a category the head does not itself claim (score ≤ 0) is a guess
SERVICE_OF_CUE = {"gas": "194", "fire": "125", "ambulance": "115", "police": "110", "accident": "115",
                  "power": "121"}


class Classifier:
    """Built once per process from city data and the shipped model; classify() is pure and thread-safe."""

    def __init__(self, city: CityData | None = None, model: Model | None = None,
                 model_file: str | Path = MODEL_FILE):
        self.city: CityData = city or load_city()
        loaded = model or load_model(model_file)
        if loaded is None:
            raise RuntimeError(f"no understanding model at {model_file}: run `sms-gateway train`")
        self.model = loaded
        lex = load_intent_lexicon()
        self.index = PhraseIndex()
        self.places = PlaceFinder(self.city, self.index)
        for name in ("opt_out", "opt_out_topic", "status_words", "status_phrases", "still", "thanks"):
            self.index.add_all(lex[name], name, None)
        for service, phrases in lex["emergency"].items():
            self.index.add_all(phrases, "emergency", service)
        self._opt_out_whole = {normalize(p) for p in lex["opt_out_whole"]}
        self._opt_in_whole = {normalize(p) for p in lex["opt_in_whole"]}
        self._fillers = frozenset(normalize(w) for w in lex["fillers"]["words"])
        self._emergency_margin = float(self.model.meta.get("emergency_margin", 0.0))

    def classify(self, text: str) -> Understanding:
        """Read one message. Never raises on any string."""
        norm = normalize(text or "")
        tokens = norm.split()
        if not any(ch.isalnum() for ch in norm):
            return Understanding("unclear")
        matches = self.index.find(tokens)
        kinds = {m.kind for m in matches}
        command = self._command(norm, tokens, kinds)
        if command:
            return Understanding(command)
        read = self.model.predict(norm)
        intent = read["intent"]
        code = quoted_code(text)
        cued = "status_words" in kinds or "status_phrases" in kinds
        if intent.label == "status_query" or (code and (cued or len(tokens) <= 2)):
            if code is not None and intent.label != "emergency":
                return Understanding("status_query", tracking_code=code.digits, code_invalid=not code.ours)
            if intent.label == "status_query":
                return Understanding("status_query")
        found = self.places.find(tokens, matches, self._fillers)
        category = read["category"]
        # Whether the text itself describes a problem: «طاهرآباد» alone is a place, «کوچه دوم سمت راست» a detail,
        # and the head, trained on reports, is only guessing a category for them. In a conversation this decides
        # whether a message answers or adds to a ticket rather than opening another.
        names_problem = intent.label in ("report", "emergency") and (
            float(category.values.max()) > 0 or category.confidence >= NAMES_PROBLEM_CONFIDENCE)
        report = Understanding(
            "report", category=category.label, category_confidence=round(category.confidence, 3),
            routed=category.sure and intent.label in ("report", "emergency") and (
                names_problem or self._words_beside_places(tokens, matches) >= DESCRIPTION_WORDS),
            names_problem=names_problem,
            still="still" in kinds, thanks="thanks" in kinds,
            neighbourhood=found.place.name if found.place else None,
            region=found.place.region if found.place else None, place_confidence=found.confidence,
            outside_city=found.outside if found.place is None else None)
        cue = self._danger(matches, set(tokens))
        lead = intent.lead_of("emergency")
        if intent.label == "emergency" or lead >= self._emergency_margin or (cue and lead >= CUE_MARGIN):
            number = SERVICE_OF_CUE["gas"] if cue == "gas" else read["service"].label
            return replace(report, intent="emergency", emergency_service=number, outside_city=None)
        if intent.label in ("opt_out", "identity_required"):
            return Understanding(intent.label)
        if intent.label == "unclear" and found.place is None:
            return Understanding("unclear", thanks="thanks" in kinds)
        return report

    def _words_beside_places(self, tokens: list[str], matches: list[Match]) -> int:
        placed = {i for m in matches if m.kind in ("place", "outside") for i in range(m.start, m.end)}
        return sum(1 for i, t in enumerate(tokens) if i not in placed and t not in self._fillers
                   and t not in self.places.cues and not t.isdigit())

    def _command(self, norm: str, tokens: list[str], kinds: set[str]) -> str | None:
        """«لغو»، «لغوووو»، «لغو ۱۱ لطفا»، «۱۲»: the whole message is the command."""
        content = [t for t in tokens if t not in self._fillers and not t.isdigit()]
        if len(content) <= 3:
            whole = _DOUBLED.sub(r"\1", " ".join(t for t in tokens if t not in self._fillers))
            if whole in self._opt_in_whole or norm in self._opt_in_whole:
                return "opt_in"
            if whole in self._opt_out_whole or norm in self._opt_out_whole:
                return "opt_out"
        if "opt_out" in kinds and "opt_out_topic" in kinds:
            return "opt_out"
        return None

    @staticmethod
    def _danger(matches: list[Match], words: set[str]) -> str | None:
        """Cues of danger to life or home now: the emergency is flagged whatever the model reads."""
        found = {m.value for m in matches if m.kind == "emergency"}
        if not ({"urgency", "ambulance"} & found):
            found -= {"accident", "police", "suspicious"}  # theft of a grate is a report; a fight now is not
        if "suspicious" in found:
            found.add("police")
        if "injury" in found:
            found.add("ambulance")
        if "ریخت" in words and words & _STRUCTURES:
            found.add("fire")  # a wall or roof came down: the fire brigade does rescue
        if words & _WIRES and words & _LOOSE:
            found.add("power")  # a bare or fallen live wire
        return next((cue for cue in ("gas", "fire", "power", "ambulance", "police", "accident") if cue in found), None)
