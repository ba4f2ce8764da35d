"""`sms-gateway train`: the learned model from labelled corpora (one file per writer) and staff corrections.

Three linear heads over one set of features: intent (every row), category (reports), the emergency number
(emergencies). Each is checked on writers it did not learn from: for every writer in turn, a model trained
on the others reads that writer's messages. Those held-out answers set the calibration of each head's
confidence and the thresholds the product acts on (a category routed without asking; a message treated as
an emergency), and they are the figures `train` prints. Same corpus, same file: LinearSVC's liblinear is
seeded, features are sorted, nothing depends on Python's hash seed."""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .features import raw_features, tfidf
from .model import Head, Model
from .normalize import normalize

MIN_DF = 2
ROUTED_ACCURACY = 0.97      # a category is acted on without asking only where held-out answers were this right
EMERGENCY_RECALL = 0.97     # held-out emergencies the model must flag (the lexicon's cues come on top)
HEADS = ("intent", "category", "service")
C_BY_HEAD = {"intent": 0.5, "category": 0.5, "service": 0.5}


@dataclass
class Row:
    text: str
    writer: str
    intent: str
    category: str | None
    service: str | None
    counts: Counter[str] = field(default_factory=Counter)


def label_of(row: Row, head: str) -> str | None:
    if head == "intent":
        return row.intent
    if head == "category":
        return row.category if row.intent == "report" and row.category else None
    return row.service if row.intent == "emergency" and row.service else None


def read_rows(paths: Iterable[str | Path]) -> list[Row]:
    rows = []
    for path in sorted(Path(p) for p in paths):
        writer = path.stem
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            number = r.get("emergency_number")
            rows.append(Row(r["text"], writer, r["intent"], r.get("category"), str(number) if number else None))
    return rows


def featurise(rows: list[Row], extra: Callable[[str], tuple[str, ...]]) -> None:
    for row in rows:
        text = normalize(row.text)
        row.counts = raw_features(text, extra(row.text))


def vocabulary(rows: list[Row]) -> tuple[list[str], list[float]]:
    df: Counter[str] = Counter()
    for row in rows:
        df.update(row.counts.keys())
    features = sorted(f for f, n in df.items() if n >= MIN_DF)
    n = len(rows)
    return features, [math.log((1 + n) / (1 + df[f])) + 1.0 for f in features]


def matrix(rows: list[Row], index: dict[str, int], idf: list[float]) -> Any:
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    for row in rows:
        i, v = tfidf(row.counts, index, idf)
        order = np.argsort(i, kind="stable")
        indices.extend(np.asarray(i)[order].tolist())
        data.extend(np.asarray(v)[order].tolist())
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(index)), dtype=np.float64)


def fit_heads(rows: list[Row]) -> tuple[list[str], list[float], dict[str, tuple[list[str], np.ndarray, np.ndarray]]]:
    """Features and, per head, (classes, weights n_classes × n_features, bias)."""
    from sklearn.svm import LinearSVC

    features, idf = vocabulary(rows)
    index = {f: i for i, f in enumerate(features)}
    fitted = {}
    for head in HEADS:
        chosen = [r for r in rows if label_of(r, head)]
        labels = [label_of(r, head) for r in chosen]
        svm = LinearSVC(C=C_BY_HEAD[head], random_state=0, max_iter=5000)
        svm.fit(matrix(chosen, index, idf), labels)
        fitted[head] = ([str(c) for c in svm.classes_], svm.coef_.copy(), svm.intercept_.copy())
    return features, idf, fitted


@dataclass
class HeldOut:
    """What models read on writers they were not trained on, per head: (writer, true, predicted, top, margin)."""

    answers: dict[str, list[tuple[str, str, str, float, float, float]]] = field(default_factory=dict)

    def add(self, head: str, writer: str, true: str, scores: np.ndarray, classes: list[str]) -> None:
        order = np.argsort(-scores, kind="stable")
        top, second = float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0
        emergency = float(scores[classes.index("emergency")] - max(s for c, s in zip(classes, scores, strict=True)
                                                                     if c != "emergency")) \
            if "emergency" in classes else 0.0
        self.answers.setdefault(head, []).append((writer, true, classes[int(order[0])], top, top - second, emergency))


def cross_validate(rows: list[Row], writers: list[str]) -> tuple[HeldOut, dict[str, Any]]:
    """Per writer, heads trained on the others read that writer: the held-out answers, and each fold's
    fitted heads (to read the writer again through the whole classifier)."""
    held, folds = HeldOut(), {}
    for writer in writers:
        train = [r for r in rows if r.writer != writer]
        test = [r for r in rows if r.writer == writer]
        features, idf, fitted = fit_heads(train)
        folds[writer] = (features, idf, fitted)
        index = {f: i for i, f in enumerate(features)}
        for head, (classes, weights, bias) in fitted.items():
            chosen = [r for r in test if label_of(r, head)]
            if not chosen:
                continue
            scores = np.asarray(matrix(chosen, index, idf) @ weights.T) + bias
            for r, s in zip(chosen, scores, strict=True):
                held.add(head, writer, label_of(r, head) or "", s, classes)
    return held, folds


def calibrate(answers: list[tuple[str, str, str, float, float, float]]) -> tuple[float, float, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([[top, margin] for _, _, _, top, margin, _ in answers])
    y = np.asarray([true == predicted for _, true, predicted, _, _, _ in answers])
    if y.all() or not y.any():
        return 0.0, 0.0, 5.0 if y.all() else -5.0
    lr = LogisticRegression(C=1.0).fit(x, y)
    return float(lr.coef_[0][0]), float(lr.coef_[0][1]), float(lr.intercept_[0])


def confidence(calibration: tuple[float, float, float], top: float, margin: float) -> float:
    a, b, c = calibration
    return 1.0 / (1.0 + math.exp(-(a * top + b * margin + c)))


def routed_threshold(answers: list[tuple[str, str, str, float, float, float]], calibration: tuple[float, float, float],
                     target: float) -> float:
    """The lowest confidence from which the held-out answers were at least `target` right."""
    scored = sorted(((confidence(calibration, top, margin), true == predicted)
                     for _, true, predicted, top, margin, _ in answers), reverse=True)
    threshold, right = 1.0, 0
    for n, (conf, ok) in enumerate(scored, 1):
        right += ok
        if right / n >= target:
            threshold = conf
    return round(threshold, 4)


def emergency_margin(answers: list[tuple[str, str, str, float, float, float]], recall: float) -> float:
    """How far below the top the emergency score may be and still flag the message, for `recall`."""
    margins = sorted(m for _, true, _, _, _, m in answers if true == "emergency")
    if not margins:
        return 0.0
    return round(margins[max(0, int(len(margins) * (1 - recall)) - 1)] - 1e-6, 4)


def build(features: list[str], idf: list[float], fitted: dict[str, Any], held: HeldOut,
          meta: dict[str, Any]) -> Model:
    """One model file's worth: the heads side by side, calibrated on the held-out answers."""
    heads, blocks, start = {}, [], 0
    for head, (classes, weights, bias) in fitted.items():
        answers = held.answers.get(head, [])
        cal = calibrate(answers)
        target = ROUTED_ACCURACY if head == "category" else 0.97
        heads[head] = Head(head, tuple(classes), start, bias.astype(np.float32), cal,
                           routed_threshold(answers, cal, target))
        blocks.append(weights.T)
        start += len(classes)
    meta = {**meta, "emergency_margin": emergency_margin(held.answers.get("intent", []), EMERGENCY_RECALL)}
    weights16 = np.hstack(blocks).astype(np.float16).astype(np.float32)  # what the file keeps
    return Model(features, np.asarray(idf, dtype=np.float32), weights16, heads, meta)


def train(paths: list[str], out: TextIO, extra: Callable[[str], tuple[str, ...]] = lambda text: (),
          folds_out: dict[str, Model] | None = None, held_out: list[str] | None = None) -> Model:
    """The model from the labelled files; `folds_out` receives, per writer, the model trained without them
    (with the final calibration), so the whole classifier can be scored on writers it never saw. `held_out`
    limits the writers calibration holds out in turn (every writer of 50 messages or more by default)."""
    rows = read_rows(paths)
    featurise(rows, extra)
    writers = held_out or sorted({r.writer for r in rows if sum(1 for x in rows if x.writer == r.writer) >= 50})
    held, folds = cross_validate(rows, writers)
    features, idf, fitted = fit_heads(rows)
    meta: dict[str, Any] = {"writers": writers, "rows": len(rows)}
    model = build(features, idf, fitted, held, meta)
    if folds_out is not None:
        for writer, (f, i, fit) in folds.items():
            folds_out[writer] = build(f, i, fit, held, meta)
    report(held, model, out)
    return model


def report(held: HeldOut, model: Model, out: TextIO) -> None:
    """Held-out figures per writer: accuracy per head, routed share and accuracy, emergency recall."""
    cat = model.heads["category"]
    margin = model.meta["emergency_margin"]
    writers = sorted({w for answers in held.answers.values() for w, *_ in answers})
    out.write(f"held-out (each writer read by a model trained on the others); {len(model.features)} features\n")
    out.write(f"{'writer':<18}{'intent':>8}{'category':>10}{'routed':>8}{'r.acc':>7}{'emerg.':>8}{'number':>8}\n")
    for w in writers + ["all"]:
        intents, cats, services = ([a for a in held.answers.get(head, []) if w in ("all", a[0])]
                                   for head in ("intent", "category", "service"))
        routed = [a for a in cats if confidence(cat.calibration, a[3], a[4]) >= cat.threshold]
        emergencies = [a for a in intents if a[1] == "emergency"]
        flagged = [a for a in emergencies if a[2] == "emergency" or a[5] >= margin]

        def share(xs: list[Any], of: list[Any]) -> str:
            return f"{len(xs) / len(of):.3f}" if of else "  -  "
        out.write(f"{w:<18}{share([a for a in intents if a[1] == a[2]], intents):>8}"
                  f"{share([a for a in cats if a[1] == a[2]], cats):>10}{share(routed, cats):>8}"
                  f"{share([a for a in routed if a[1] == a[2]], routed):>7}{share(flagged, emergencies):>8}"
                  f"{share([a for a in services if a[1] == a[2]], services):>8}\n")
    out.write(f"category routed from confidence {cat.threshold}; emergency flagged from margin {margin}\n")


def held_out_pipeline(paths: list[str], folds: dict[str, Model], city: Any, out: TextIO) -> None:
    """The whole classifier (rules and model) on each writer, with the model that never saw them."""
    from .classifier import Classifier
    from .evaluate import HEADER, Scores, read_corpus, score, summary_line

    out.write("\nwhole classifier, held out (each writer read with the model trained on the others)\n" + HEADER + "\n")
    total = Scores()
    for path in sorted(paths):
        writer = Path(path).stem
        if writer not in folds:
            continue
        s = score(read_corpus(path), Classifier(city, model=folds[writer]))
        total.add(s)
        out.write(summary_line(writer, s) + "\n")
    out.write(summary_line("all", total) + "\n")
