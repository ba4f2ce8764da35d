import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "sms-gateway"
DATA = Path(__file__).parent.parent / "data"


def test_classify_streams_one_line_per_input_in_order():
    lines = ['{"text": "چاله تو فین"}', '{"text": "لغو"}', 'not json', '{"text": "پیگیری ۱۲۳۴۵۶۷"}']
    proc = subprocess.run([str(BIN), "classify"], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o.get("intent") for o in out] == ["report", "opt_out", None, "status_query"]
    assert out[0]["neighbourhood"] == "فین" and out[0]["region"] == 4 and out[0]["category"] == "asphalt"
    assert "error" in out[2] and out[3]["tracking_code"] == "1234567"
    assert {"intent", "category", "neighbourhood", "region", "tracking_code", "category_confidence", "routed",
            "confidence"} <= set(out[0])


def test_classify_output_is_flushed_before_input_ends():
    """Streaming: the answer to the first line arrives while stdin is still open."""
    with subprocess.Popen([str(BIN), "classify"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          bufsize=1) as proc:
        proc.stdin.write('{"text": "زباله"}\n')
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["intent"] == "report"
        proc.stdin.close()
        proc.wait(timeout=30)


def test_evaluate_prints_accuracy_confusion_and_misses():
    proc = subprocess.run([str(BIN), "evaluate", str(DATA / "fresh.jsonl")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("== ") and "\nintent " in proc.stdout and "category confusion" in proc.stdout and "misses (" in proc.stdout
