"""What every service is handed by the composition root: storage, the city, the rules, the texts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from ..adapters.texts import SmsTexts
from ..domain.city import CityData
from ..domain.policy import Policy

if TYPE_CHECKING:
    from ..understanding import Classifier
    from .outbox import Outbox


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    city: CityData
    policy: Policy
    texts: SmsTexts
    classifier: "Classifier"
    outbox: "Outbox"
    max_text_chars: int = 1600
