"""The seam intake calls: text in, Understanding out."""
from __future__ import annotations

import re

from .model import Understanding

from .normalize import normalize


class Classifier:
    def classify(self, text: str) -> Understanding:
        plain = normalize(text)
        if not plain:
            return Understanding("unclear")
        code = re.search(r"(?<!\d)\d{6,10}(?!\d)", plain)
        if code and (re.fullmatch(r"\d+", plain) or "پیگیری" in plain or "رهگیری" in plain):
            return Understanding("status_query", tracking_code=code.group())
        if "پیگیری" in plain or "رهگیری" in plain:
            return Understanding("status_query")
        return Understanding("report")
