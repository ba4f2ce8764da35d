"""What the learned model reads in a normalised text: character n-grams of its words, its words and word
pairs, and character n-grams of a consonant skeleton that Persian script and Finglish share
(«آشغال» and «ashghal» both become «Sql»). One featuriser for training and for prediction, so the two
can never disagree; no Python `hash()`, so every process reads a text the same way."""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

CHAR_NGRAMS = (2, 5)
SKELETON_NGRAMS = (2, 4)
BLOCKS = ("c", "w", "s")  # character, word, skeleton: each block is L2-normalised on its own

_PERSIAN_SKELETON = {
    "ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "C", "ح": "h",
    "ه": "h", "خ": "x", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ر": "r", "ژ": "Z", "ش": "S",
    "غ": "q", "ق": "q", "ف": "f", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
}  # ا و ی ع آ: vowels or silent in one script or the other, dropped on both sides
_LATIN_DIGRAPHS = (("kh", "x"), ("sh", "S"), ("ch", "C"), ("zh", "Z"), ("gh", "q"), ("w", "v"), ("c", "k"))
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_LATIN_VOWELS = re.compile(r"[aeiouyv0-9]")
_REPEAT = re.compile(r"(.)\1+")


@lru_cache(maxsize=100_000)
def skeleton_word(word: str) -> str:
    """The consonants of a word, the same for its Persian spelling and its Finglish ones."""
    if _LATIN_WORD.fullmatch(word):
        for pair, letter in _LATIN_DIGRAPHS:
            word = word.replace(pair, letter)
        return _final_h(_REPEAT.sub(r"\1", _LATIN_VOWELS.sub("", word)))
    if len(word) > 2 and word.endswith("ه"):  # a final silent «ه»: «کوچه» is «kooche»
        word = word[:-1]
    return _final_h(_REPEAT.sub(r"\1", "".join(_PERSIAN_SKELETON.get(ch, "") for ch in word)))


def _final_h(skeleton: str) -> str:
    """A final h is dropped in both scripts: «daneshgah» and «دانشگاه», «rangrazha» and «رنگرزها»."""
    return skeleton[:-1] if len(skeleton) > 1 and skeleton.endswith("h") else skeleton


def skeleton_key(words: list[str]) -> str:
    """One name's consonants, words run together («nahjolbalaghe» is «نهج البلاغه»)."""
    return _REPEAT.sub(r"\1", "".join(skeleton_word(w) for w in words))


def skeleton_keys(words: list[str]) -> set[str]:
    """The name's key, and its key with the Arabic article's «ل» assimilated («ghiasoddin» for «غیاث الدین»)."""
    keys = {skeleton_key(words)}
    if any(w.startswith("ال") and len(w) > 3 for w in words):
        keys.add(skeleton_key([w[2:] if w.startswith("ال") and len(w) > 3 else w for w in words]))
    return keys


def skeleton(text: str) -> str:
    return " ".join(s for s in (skeleton_word(w) for w in text.split()) if s)


@lru_cache(maxsize=100_000)
def _char_ngrams(word: str, low: int, high: int, prefix: str) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(prefix + padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1))


def raw_features(normalised: str, extra: tuple[str, ...] = ()) -> Counter[str]:
    """Feature counts of a normalised text; `extra` are names of facts found by other means (lexicon)."""
    words = normalised.split()
    counts: Counter[str] = Counter()
    for word in words:
        counts.update(_char_ngrams(word, *CHAR_NGRAMS, "c"))
        sk = skeleton_word(word)
        if sk:
            counts.update(_char_ngrams(sk, *SKELETON_NGRAMS, "s"))
    counts.update("w" + w for w in words)
    counts.update("w" + a + " " + b for a, b in zip(words, words[1:], strict=False))
    counts.update("w" + e for e in extra)
    return counts


def tfidf(counts: Counter[str], index: dict[str, int], idf: list[float]) -> tuple[list[int], list[float]]:
    """Sublinear tf × idf of the known features, each block scaled to unit length: (indices, values)."""
    found: list[tuple[int, float, str]] = []
    norms = dict.fromkeys(BLOCKS, 0.0)
    for feature, count in counts.items():
        i = index.get(feature)
        if i is None:
            continue
        value = (1.0 + math.log(count)) * idf[i]
        found.append((i, value, feature[0]))
        norms[feature[0]] += value * value
    scale = {block: 1.0 / math.sqrt(n) if n else 0.0 for block, n in norms.items()}
    return [i for i, _, _ in found], [v * scale[block] for _, v, block in found]
