"""Score the classifier on a labelled corpus (the format of tests/data/dev.jsonl)."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from .classifier import Classifier


@dataclass
class Scores:
    total: Counter = field(default_factory=Counter)
    right: Counter = field(default_factory=Counter)
    confusion: Counter = field(default_factory=Counter)
    misses: list[dict] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name] if self.total[name] else 1.0


def score(rows: Iterable[dict[str, Any]], classifier: Classifier) -> Scores:
    """Intent on every row; category where intent is report; place on report and emergency; code on status."""
    s = Scores()
    for row in rows:
        u = classifier.classify(row["text"])
        checks: list[tuple[str, Any, Any]] = [("intent", row["intent"], u.intent)]
        if row["intent"] == "report":
            checks.append(("category", row.get("category"), u.category))
            s.confusion[(row.get("category"), u.category)] += 1
        if row["intent"] in ("report", "emergency"):
            checks.append(("neighbourhood", row.get("neighbourhood"), u.neighbourhood))
        if row["intent"] == "status_query":
            checks.append(("tracking_code", row.get("tracking_code"), u.tracking_code))
        for name, expected, got in checks:
            s.total[name] += 1
            if expected == got:
                s.right[name] += 1
            else:
                s.misses.append({"id": row.get("id"), "field": name, "expected": expected, "got": got,
                                 "text": row["text"]})
    return s


def print_report(s: Scores, out: TextIO) -> None:
    for name in ("intent", "category", "neighbourhood", "tracking_code"):
        out.write(f"{name:<14} {s.accuracy(name):.3f}  ({s.right[name]}/{s.total[name]})\n")
    labels = sorted({a for a, _ in s.confusion} | {b for _, b in s.confusion}, key=str)
    out.write("\ncategory confusion (row = expected, only rows with errors):\n")
    for a in labels:
        wrong = {b: n for (x, b), n in s.confusion.items() if x == a and b != a}
        if wrong:
            out.write(f"  {a}: right {s.confusion[(a, a)]}, " +
                      ", ".join(f"{b}:{n}" for b, n in sorted(wrong.items(), key=lambda kv: -kv[1])) + "\n")
    out.write(f"\nmisses ({len(s.misses)}):\n")
    for m in s.misses:
        out.write(json.dumps(m, ensure_ascii=False) + "\n")


def read_corpus(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def classify_lines(classifier: Classifier, lines: Iterable[str], out: TextIO, max_chars: int = 1600,
                   max_line: int = 65536) -> None:
    """JSON lines {"text": …} in, one JSON answer per line out, flushed as it goes; never raises on a line."""
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            if len(line) > max_line:
                raise ValueError("line too long")
            text = json.loads(line)["text"]
            result = classifier.classify(text[:max_chars] if isinstance(text, str) else "").as_json()
        except (ValueError, KeyError, TypeError, RecursionError):
            result = {"error": f"line {line_no}: expected a JSON object with a text field"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
