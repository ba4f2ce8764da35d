"""Issue 11's rules of understanding: known false readings, quoted codes, emergencies and their numbers,
the model's confidence, determinism."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sms_gateway.understanding.codes import quoted_code
from sms_gateway.understanding.features import raw_features, skeleton, tfidf
from sms_gateway.understanding.model import MODEL_FILE, load_model
from sms_gateway.understanding.normalize import normalize
from tests.unit.test_classifier import shared

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def classifier():
    return shared()


@pytest.mark.parametrize("text", ["محله پشت مشهد، کوچه شهید رحیمی", "پشت عمارت، کوچه دوم"])
def test_a_place_named_posht_is_not_pest_control(classifier, text):
    u = classifier.classify(text)
    assert u.neighbourhood in ("پشت مشهد", "پشت عمارت")
    assert not (u.category == "pest_control" and u.routed)


def test_a_passing_mention_of_dues_is_still_the_drain_complaint(classifier):
    u = classifier.classify("ما هر سال عوارض میدیم ولی جوی کوچمون سه ماهه گرفته و آب میمونه")
    assert (u.intent, u.category) == ("report", "drainage")


@pytest.mark.parametrize("text", ["برای گرفتن جواز ساخت چه مدارکی لازمه؟", "جواز تخریب خونه قدیمی رو چطور بگیرم"])
def test_a_permit_by_any_name_goes_to_the_authenticated_channel(classifier, text):
    assert classifier.classify(text).intent == "identity_required"


@pytest.mark.parametrize("text", ["خیلی ممنون از رسیدگی سریعتون", "مرسی از پیگیریتون"])
def test_thanks_open_no_ticket(classifier, text):
    assert classifier.classify(text).intent == "unclear"


@pytest.mark.parametrize("text,number", [
    ("لوله گاز سر کوچه ترکیده، بوی گاز همه جا رو گرفته", "194"),
    ("انبار چوب کنار کوچه ما آتیش گرفته دودش همه جا رو گرفته", "125"),
    ("درخت افتاده رو سیم برق کوچه، سیم داره جرقه میزنه", "121"),
    ("تصادف شده یه نفر زخمیه افتاده وسط خیابون", "115"),
    ("دریچه فاضلاب کوچه رو برداشتن، چاه بازه بچه ها اینجا بازی میکنن", "122"),
])
def test_danger_to_life_is_an_emergency_with_the_number_that_fits(classifier, text, number):
    u = classifier.classify(text)
    assert (u.intent, u.emergency_service) == ("emergency", number)


def test_the_same_things_without_risk_to_people_are_reports(classifier):
    for text in ["لامپ تیر چراغ برق کوچه سوخته", "ترک دیوار پارک مال چند سال پیشه، خطری نداره ولی زشته",
                 "آب بارون تو خیابون جمع شده", "یه چاله کوچیک تو کوچه هست"]:
        assert classifier.classify(text).intent == "report", text
    assert classifier.classify("دیوار خونه خرابه کنار کوچه داره میریزه، آجراش افتاده تو کوچه").intent == "emergency"


@pytest.mark.parametrize("text,code,ours", [
    ("پیگیری ۱۲۳۴۵", "12345", False), ("کد رهگیری ٧٣٠٩١٥ وضعیتش چیه؟ شماره من ۰۹۱۳۲۴۵۶۷۸۱", "730915", False),
    ("kode man 12345-678 e, lotfan begid kojaye kare", "12345678", False),
    ("درخواستم به کجا رسید؟ کد ۳۲۶۷۶۴۹۸", "32676498", None), ("١٢٣٤٥٦٧٨٩٠١٢ پیگیری", "123456789012", False),
])
def test_tracking_codes_as_citizens_quote_them(text, code, ours):
    found = quoted_code(text)
    assert found is not None and found.digits == code
    if ours is not None:
        assert found.ours is ours


@pytest.mark.parametrize("text", ["شماره من ۰۹۱۳۲۴۵۶۷۸۱", "شماره ملیم ۱۲۵۰۰۴۴۸۷۹ هست", "از تاریخ ۱۴۰۵/۰۸/۱۲",
                                  "پلاک ۱۲۳۴۵", "کوچه ۱۴"])
def test_numbers_that_are_not_codes(text):
    assert quoted_code(text) is None


def test_a_status_query_quoting_a_short_code_is_understood(classifier):
    u = classifier.classify("سلام پیگیری ۸۸۲۱۳")
    assert (u.intent, u.tracking_code, u.code_invalid) == ("status_query", "88213", True)


def test_category_confidence_and_routing(classifier):
    sure = classifier.classify("زباله ها سه روزه جمع نشده سطل پر شده کوچه ما")
    vague = classifier.classify("یه مشکلی تو کوچه ما هست لطفا رسیدگی کنید")
    assert sure.routed and sure.category == "garbage" and sure.category_confidence > vague.category_confidence
    assert not classifier.classify("طاهرآباد").routed  # a place alone names no problem
    out = sure.as_json()
    assert out["routed"] is True and 0 < out["category_confidence"] <= 1


def test_finglish_and_persian_share_a_skeleton():
    assert skeleton(normalize("ashghal kooche")) == skeleton(normalize("آشغال کوچه"))
    assert skeleton(normalize("kh taleghani")) == skeleton(normalize("خیابان طالقانی"))


def test_prediction_reads_a_text_exactly_as_training_did():
    model = load_model()
    for text in ["زباله های کوچه ما رو نبردن", "ashghal kooche ma 3 rooze mounde!!", "چاله چاله چاله تو فین"]:
        norm = normalize(text)
        trained_i, trained_v = tfidf(raw_features(norm), model.index, model.idf.tolist())
        indices, values = model.vector(norm)
        runtime = dict(zip(indices.tolist(), values.tolist(), strict=True))
        assert runtime == pytest.approx(dict(zip(trained_i, trained_v, strict=True)))


def test_the_model_is_small_and_read_once():
    assert MODEL_FILE.stat().st_size <= 10_000_000
    assert load_model() is load_model()


def test_classify_gives_the_same_answers_under_any_hash_seed(tmp_path):
    rows = [json.loads(line) for path in sorted((ROOT / "corpus").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()[:120] if line.strip()]
    lines = "\n".join(json.dumps({"text": r["text"]}, ensure_ascii=False) for r in rows[:900]) + "\n"
    outputs = []
    for seed in ("1", "2"):
        proc = subprocess.run([sys.executable, "-m", "sms_gateway.cli", "classify"], input=lines,
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, PYTHONHASHSEED=seed, SMS_GATEWAY_CONFIG=str(tmp_path / "n.toml")),
                              cwd=tmp_path) if (tmp_path / "n.toml").write_text("") is not None else None
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert len(outputs[0].splitlines()) == 900 and outputs[0] == outputs[1]
    assert Counter(json.loads(line)["intent"] for line in outputs[0].splitlines())["report"] > 400


def test_the_model_weights_are_finite():
    model = load_model()
    assert np.isfinite(model.weights).all() and np.isfinite(model.idf).all()
