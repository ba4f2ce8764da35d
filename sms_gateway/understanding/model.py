"""The learned part of understanding: linear models over `features`, trained by `sms-gateway train`
(understanding/train.py) and shipped as one small file, read once per process.

File: a magic line, a JSON header (feature names, heads, calibration), the idf weights (float32) and
one weight matrix (float16, features × all heads' classes). Prediction gathers the rows of the features a
text has: a few hundred rows, whatever the vocabulary size."""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .features import BLOCKS, CHAR_NGRAMS, SKELETON_NGRAMS, _char_ngrams, skeleton_word

MAGIC = b"SG137-UNDERSTANDING-1\n"
MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "understanding.model"


@dataclass(frozen=True)
class Head:
    """One question the model answers (intent, category, emergency number) over its own classes."""

    name: str
    classes: tuple[str, ...]
    start: int                              # its first column in the weight matrix
    bias: np.ndarray
    calibration: tuple[float, float, float]  # P(top is right) = sigmoid(a·top + b·margin + c)
    threshold: float                         # confidence from which the answer is acted on


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float   # calibrated on writers the model was not trained on
    margin: float       # top score minus the runner-up's
    threshold: float    # the head's confidence from which the answer is acted on
    classes: tuple[str, ...]
    values: np.ndarray

    @property
    def sure(self) -> bool:
        return self.confidence >= self.threshold

    def lead_of(self, label: str) -> float:
        """How far `label`'s score is above the best other class (negative: below it)."""
        at = self.classes.index(label)
        rest = [float(v) for i, v in enumerate(self.values.tolist()) if i != at]
        return float(self.values[at]) - max(rest, default=0.0)


class Reading:
    """The model's reading of one text; each head is worked out when first asked for."""

    def __init__(self, model: "Model", summed: np.ndarray):
        self._model, self._summed = model, summed
        self._done: dict[str, Prediction] = {}

    def __getitem__(self, head: str) -> Prediction:
        found = self._done.get(head)
        if found is None:
            found = self._done[head] = _predict(self._model.heads[head], self._summed)
        return found


class Model:
    def __init__(self, features: list[str], idf: np.ndarray, weights: np.ndarray, heads: dict[str, Head],
                 meta: dict[str, Any]):
        self.index = {f: i for i, f in enumerate(features)}
        self.features = features
        self.idf = idf.astype(np.float64)
        self.block_of = np.asarray([BLOCKS.index(f[0]) for f in features], dtype=np.intp)
        self.weights = weights
        self.heads = heads
        self.meta = meta
        self._word_memo: dict[str, np.ndarray] = {}

    def predict(self, normalised: str) -> Reading:
        indices, values = self.vector(normalised)
        if len(indices):
            summed = values.astype(np.float32) @ self.weights[indices]
        else:
            summed = np.zeros(self.weights.shape[1], dtype=np.float32)
        return Reading(self, summed)

    def vector(self, normalised: str) -> tuple[np.ndarray, np.ndarray]:
        """The same tf-idf as `features.tfidf` (training), computed from per-word memos of known features."""
        words = normalised.split()
        known = self.index
        parts = [self._word_features(w) for w in words]
        phrases = [known.get("w" + w, -1) for w in words]
        phrases += [known.get(f"w{a} {b}", -1) for a, b in zip(words, words[1:], strict=False)]
        parts.append(np.asarray([i for i in phrases if i >= 0], dtype=np.intp))
        indices, counts = _counted(np.concatenate(parts))
        values = (1.0 + np.log(counts)) * self.idf[indices]
        blocks = self.block_of[indices]
        norms = np.sqrt(np.bincount(blocks, weights=values * values, minlength=len(BLOCKS)))
        return indices, values / np.where(norms > 0, norms, 1.0)[blocks]

    def _word_features(self, word: str) -> np.ndarray:
        """The known character and skeleton n-grams of a word, memoised: messages repeat the city's words."""
        found = self._word_memo.get(word)
        if found is None:
            grams = list(_char_ngrams(word, *CHAR_NGRAMS, "c"))
            sk = skeleton_word(word)
            if sk:
                grams += _char_ngrams(sk, *SKELETON_NGRAMS, "s")
            found = np.asarray([i for i in (self.index.get(g, -1) for g in grams) if i >= 0], dtype=np.intp)
            if len(self._word_memo) >= 200_000:
                self._word_memo.clear()
            self._word_memo[word] = found
        return found

    def to_bytes(self) -> bytes:
        header = json.dumps({"features": self.features, "meta": self.meta, "rows": self.weights.shape[0],
                             "columns": self.weights.shape[1],
                             "heads": {h.name: {"classes": list(h.classes), "start": h.start,
                                                "bias": [float(b) for b in h.bias],
                                                "calibration": list(h.calibration), "threshold": h.threshold}
                                       for h in self.heads.values()}},
                            ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        return b"".join([MAGIC, struct.pack("<I", len(header)), header, self.idf.astype("<f4").tobytes(),
                         self.weights.astype("<f2").tobytes()])

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        if not data.startswith(MAGIC):
            raise ValueError("not an understanding model file")
        at = len(MAGIC)
        (size,) = struct.unpack_from("<I", data, at)
        header = json.loads(data[at + 4:at + 4 + size])
        at += 4 + size
        rows, columns = header["rows"], header["columns"]
        idf = np.frombuffer(data, dtype="<f4", count=rows, offset=at)
        weights = np.frombuffer(data, dtype="<f2", count=rows * columns, offset=at + 4 * rows).reshape(rows, columns)
        heads = {name: Head(name, tuple(h["classes"]), h["start"], np.asarray(h["bias"], dtype=np.float32),
                            tuple(h["calibration"]), h["threshold"]) for name, h in header["heads"].items()}
        return cls(header["features"], idf, weights.astype(np.float32), heads, header["meta"])


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_counts=True), without its overhead on a few hundred small arrays."""
    if not len(values):
        return values, values
    values = np.sort(values)
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return values[starts], np.diff(np.append(starts, len(values)))


def _predict(head: Head, summed: np.ndarray) -> Prediction:
    scores = summed[head.start:head.start + len(head.classes)] + head.bias
    best = int(np.argmax(scores))
    top = float(scores[best])
    margin = top - float(np.partition(scores, -2)[-2]) if len(scores) > 1 else top
    a, b, c = head.calibration
    confidence = 1.0 / (1.0 + math.exp(-(a * top + b * margin + c)))
    return Prediction(head.classes[best], confidence, margin, head.threshold, head.classes, scores)


@lru_cache(maxsize=4)
def load_model(path: str | Path = MODEL_FILE) -> Model | None:
    """The shipped model, read once per process; None when it has not been trained yet."""
    path = Path(path)
    return Model.from_bytes(path.read_bytes()) if path.exists() else None
