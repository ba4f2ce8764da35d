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


def test_classify_answers_a_deeply_nested_line_and_a_5_mb_line_quickly_and_clearly():
    """Issue 14, item 17: 100,000-deep nesting is a clear error, a 5 MB text is read cut to max_text_chars
    like intake does (the answer says so), and the lines around them are answered as usual."""
    import time

    lines = ['{"text": "چاله تو فین"}', "[" * 100_000 + "]" * 100_000, '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",
             json.dumps({"text": "زباله ها جمع نشده تو محله فین " * 180_000}, ensure_ascii=False),
             '{"text": "لغو"}']
    assert len(lines[3].encode()) > 5_000_000
    started = time.monotonic()
    proc = subprocess.run([str(BIN), "classify"], input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - started < 20
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 5 and out[0]["intent"] == "report" and out[4]["intent"] == "opt_out"
    assert out[1] == {"error": "line 2: nested too deeply"} and out[2] == {"error": "line 3: nested too deeply"}
    assert out[3]["intent"] == "report" and out[3]["truncated"] is True and out[3]["chars"] > 5_000_000
    assert out[3]["category"] == "garbage"


def test_a_line_over_the_limit_is_skipped_unread_and_the_next_is_answered():
    import io

    from sms_gateway.domain.city import load_city
    from sms_gateway.understanding import Classifier
    from sms_gateway.understanding.evaluate import classify_lines

    out = io.StringIO()
    stream = io.StringIO('{"text": "' + "ب" * 5000 + '"}\n{"text": "لغو"}\n')
    classify_lines(Classifier(load_city("kashan")), stream, out, max_line=1000)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0] == {"error": "line 1: longer than 1000 characters, skipped"}
    assert answers[1]["intent"] == "opt_out"
