"""Classifier throughput on one core: messages per second over the corpus texts, repeated, in CPU time of
this process (the machine is shared and noisy: CPU seconds hold still where wall seconds do not), next to an
anchor measured in the same run, normalisation alone.

Usage: python bench/classify.py [--seconds 5]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sms_gateway.understanding import Classifier
from sms_gateway.understanding.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


def rate(work, texts: list[str], seconds: float) -> tuple[float, float]:
    """(messages per CPU second, messages per wall second)."""
    done, cpu, wall = 0, time.process_time(), time.perf_counter()
    while time.process_time() - cpu < seconds:
        for text in texts:
            work(text)
        done += len(texts)
    return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    texts = [json.loads(line)["text"] for path in sorted((ROOT / "corpus").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    classifier = Classifier()
    print(f"classifier built in {(time.perf_counter() - started) * 1000:.0f} ms; {len(texts)} texts, "
          f"mean length {sum(map(len, texts)) // len(texts)} characters")
    started = time.process_time()
    for text in texts:  # first pass: every per-word memo is empty, as after a restart
        classifier.classify(text)
    print(f"first pass, cold memos: {len(texts) / (time.process_time() - started):,.0f} messages per CPU second")
    cpu, wall = rate(classifier.classify, texts, args.seconds)
    anchor, _ = rate(normalize, texts, min(args.seconds, 2.0))
    print(f"classify: {cpu:,.0f} messages per CPU second ({1e6 / cpu:.0f} µs each; {wall:,.0f}/s by the wall clock)")
    print(f"anchor, normalisation alone: {anchor:,.0f}/s; classify costs {anchor / cpu:.1f} normalisations")


if __name__ == "__main__":
    main()
