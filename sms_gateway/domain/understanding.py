"""What the product read in a message: the value understanding produces and decisions consume."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INTENTS = ("report", "status_query", "opt_out", "opt_in", "identity_required", "emergency", "unclear")


@dataclass(frozen=True)
class Understanding:
    intent: str
    category: str | None = None
    neighbourhood: str | None = None
    region: int | None = None
    tracking_code: str | None = None
    category_confidence: float = 0.0
    place_confidence: float = 0.0
    emergency_service: str | None = None  # fire, ambulance, police, gas, power, water
    outside_city: str | None = None
    routed: bool = False                  # confident enough to act on the category without asking
    code_invalid: bool = False            # a quoted number that cannot be one of our tracking codes
    names_problem: bool = False           # the text itself describes a problem (not only a place or a detail)
    still: bool = False                   # «هنوز…»، «باز هم…»: it is still not fixed, or happened again
    thanks: bool = False                  # thanks or praise

    def as_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent, "category": self.category,
            "neighbourhood": self.neighbourhood, "region": self.region,
            "tracking_code": self.tracking_code,
            "emergency_service": self.emergency_service,
            "category_confidence": round(self.category_confidence, 2),
            "routed": self.routed,
            "confidence": {"category": round(self.category_confidence, 2),
                           "place": round(self.place_confidence, 2)},
        }
