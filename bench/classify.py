"""Classifier throughput on one core: messages per second over the dev and fresh corpora, repeated.

Usage: python bench/classify.py [--seconds 5]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sms_gateway.understanding import Classifier

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    texts = [json.loads(line)["text"] for name in ("dev.jsonl", "fresh.jsonl")
             for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    classifier = Classifier()
    print(f"classifier built in {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    for text in texts:  # first pass: every per-word memo is empty, as after a restart
        classifier.classify(text)
    cold = time.perf_counter() - started
    print(f"first pass, cold memos: {len(texts) / cold:,.0f} messages/s")
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for text in texts:
            classifier.classify(text)
        done += len(texts)
    elapsed = time.perf_counter() - started
    print(f"{done} messages in {elapsed:.2f} s on one core: {done / elapsed:,.0f} messages/s "
          f"({elapsed / done * 1e6:.0f} µs each, mean length {sum(map(len, texts)) // len(texts)} chars)")


if __name__ == "__main__":
    main()
