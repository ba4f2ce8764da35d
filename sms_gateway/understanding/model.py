from __future__ import annotations

from dataclasses import asdict, dataclass

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
    emergency_service: str | None = None  # fire, ambulance, police, gas
    outside_city: str | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        return {
            "intent": data["intent"], "category": data["category"],
            "neighbourhood": data["neighbourhood"], "region": data["region"],
            "tracking_code": data["tracking_code"],
            "confidence": {"category": round(self.category_confidence, 2),
                           "place": round(self.place_confidence, 2)},
        }
