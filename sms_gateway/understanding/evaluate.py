"""Scores of the classifier on labelled corpora (the format of corpus/*.jsonl), one writer file at a time."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from .classifier import Classifier

FIELDS = ("intent", "category", "routed", "neighbourhood", "tracking_code", "emergency_recall", "emergency_number")


@dataclass
class Scores:
    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[Any, Any]] = field(default_factory=Counter)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name] if self.total[name] else 1.0

    def add(self, other: "Scores") -> None:
        self.total.update(other.total)
        self.right.update(other.right)
        self.confusion.update(other.confusion)
        self.misses += other.misses

    @property
    def routed_share(self) -> float:
        return self.total["routed"] / self.total["category"] if self.total["category"] else 0.0


def score(rows: Iterable[dict[str, Any]], classifier: Classifier) -> Scores:
    """Intent on every row; category (and whether it was routed) on reports; place on reports and emergencies;
    the quoted code on status queries; emergencies found, and the number named, on emergencies."""
    s = Scores()
    for row in rows:
        u = classifier.classify(row["text"])
        checks: list[tuple[str, Any, Any]] = [("intent", row["intent"], u.intent)]
        if row["intent"] == "report":
            checks.append(("category", row.get("category"), u.category))
            s.confusion[(row.get("category"), u.category)] += 1
            if u.routed:
                checks.append(("routed", row.get("category"), u.category))
        if row["intent"] in ("report", "emergency"):
            checks.append(("neighbourhood", row.get("neighbourhood"), u.neighbourhood))
        if row["intent"] == "emergency":
            checks.append(("emergency_recall", "emergency", u.intent))
            if row.get("emergency_number") and u.intent == "emergency":
                checks.append(("emergency_number", str(row["emergency_number"]), u.emergency_service))
        if row["intent"] == "status_query":
            checks.append(("tracking_code", row.get("tracking_code"), u.tracking_code))
        for name, expected, got in checks:
            s.total[name] += 1
            if expected == got:
                s.right[name] += 1
            elif name != "emergency_recall":
                s.misses.append({"id": row.get("id"), "field": name, "expected": expected, "got": got,
                                 "text": row["text"]})
    return s


def summary_line(name: str, s: Scores) -> str:
    cells = [f"{s.accuracy(f):.3f}" if s.total[f] else "  -  " for f in FIELDS]
    return f"{name:<22}" + "".join(f"{c:>10}" for c in cells) + f"{s.routed_share:>10.3f}"


HEADER = f"{'':<22}" + "".join(f"{f[:9]:>10}" for f in FIELDS) + f"{'routed%':>10}"


def print_report(s: Scores, out: TextIO, misses: bool = True) -> None:
    for name in FIELDS:
        if s.total[name]:
            out.write(f"{name:<17} {s.accuracy(name):.3f}  ({s.right[name]}/{s.total[name]})\n")
    out.write(f"routed share     {s.routed_share:.3f}  ({s.total['routed']}/{s.total['category']})\n")
    labels = sorted({a for a, _ in s.confusion} | {b for _, b in s.confusion}, key=str)
    out.write("\ncategory confusion (row = expected, only rows with errors):\n")
    for a in labels:
        wrong = {b: n for (x, b), n in s.confusion.items() if x == a and b != a}
        if wrong:
            out.write(f"  {a}: right {s.confusion[(a, a)]}, " +
                      ", ".join(f"{b}:{n}" for b, n in sorted(wrong.items(), key=lambda kv: -kv[1])) + "\n")
    if misses:
        out.write(f"\nmisses ({len(s.misses)}):\n")
        for m in s.misses:
            out.write(json.dumps(m, ensure_ascii=False) + "\n")


def read_corpus(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


MAX_LINE_CHARS = 16 * 2**20  # a longer line is skipped unread: what is read of a line is held in memory


def classify_lines(classifier: Classifier, lines: Iterable[str] | TextIO, out: TextIO, max_chars: int = 1600,
                   max_line: int = MAX_LINE_CHARS) -> None:
    """JSON lines {"text": …} in, one JSON answer per line out, flushed as it goes; never raises on a line.

    As intake does, a text longer than `max_chars` is read cut to it (the answer says `truncated` and the
    whole length); a line nested too deeply, not JSON, or over `max_line` characters is one clear error."""
    source = bounded_lines(lines, max_line) if hasattr(lines, "readline") else iter(lines)
    for line_no, line in enumerate(source, 1):
        if line is not None and not line.strip():
            continue
        out.write(json.dumps(_classify_line(classifier, line, line_no, max_chars, max_line), ensure_ascii=False)
                  + "\n")
        out.flush()


def _classify_line(classifier: Classifier, line: str | None, line_no: int, max_chars: int,
                   max_line: int) -> dict[str, Any]:
    if line is None or len(line) > max_line:
        return {"error": f"line {line_no}: longer than {max_line} characters, skipped"}
    try:
        value = json.loads(line)
    except RecursionError:
        return {"error": f"line {line_no}: nested too deeply"}
    except ValueError:
        return {"error": f"line {line_no}: not JSON"}
    text = value.get("text") if isinstance(value, dict) else None
    if not isinstance(text, str):
        return {"error": f"line {line_no}: expected a JSON object with a text field"}
    result = classifier.classify(text[:max_chars]).as_json()
    if len(text) > max_chars:
        result.update(truncated=True, chars=len(text))
    return result


def bounded_lines(stream: Any, limit: int) -> Iterable[str | None]:
    """The lines of `stream`, each read at most `limit` characters at a time; None for a longer one, whose
    rest is skipped without being kept."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith("\n"):
            yield line
            continue
        while True:
            rest = stream.readline(limit)
            if not rest or rest.endswith("\n"):
                break
        yield None
