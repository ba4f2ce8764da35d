"""The package as a user gets it: a wheel built from this tree, installed into a clean virtualenv, migrated and
served from another directory gives a working dashboard, webhook and understanding."""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.integration.test_cli import _free_port, _wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_carries_pages_texts_static_model_and_no_top_level_providers(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("sms_gateway/templates/dashboard/base.html", "sms_gateway/templates/sms/ack.txt",
                   "sms_gateway/templates/canned.toml", "sms_gateway/static/css/app.css",
                   "sms_gateway/static/fonts/Vazirmatn-Regular.woff2", "sms_gateway/providers/__init__.py",
                   "sms_gateway/providers/kavenegar.py", "sms_gateway/data/understanding.model",
                   "sms_gateway/data/cities/isfahan.toml", "sms_gateway/adapters/migrations/env.py",
                   "sms_gateway/adapters/migrations/script.py.mako"):
        assert needed in names, needed
    assert not any(n.startswith(("providers/", "templates/", "static/", "tests/", "corpus/")) for n in names)


def test_the_installed_wheel_migrates_and_serves_from_another_directory(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies come from this test run's environment (no download); sms_gateway only from the wheel.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text(f'database_url = "sqlite:///{elsewhere}/gateway.sqlite3"\n')
    exe = str(venv / "bin" / "sms-gateway")
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import sms_gateway; print(sms_gateway.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where
    subprocess.run([exe, "db", "upgrade"], cwd=elsewhere, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen([exe, "serve", "--port", str(port), "--workers", "1"], cwd=elsewhere,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        page = urlopen(f"{base}/login", timeout=10).read().decode()
        assert "شهرداری کاشان" in page and 'dir="rtl"' in page
        assert urlopen(f"{base}/static/css/app.css", timeout=10).status == 200
        from urllib.request import Request

        request = Request(f"{base}/webhooks/console/sms", data=json.dumps(
            {"from": "09121234567", "text": "چاله عمیق تو خیابون فین"}).encode(), headers={"Content-Type": "application/json"})
        reply = json.loads(urlopen(request, timeout=10).read())["reply"]
        assert "کد رهگیری" in reply
    finally:
        server.terminate()
        server.wait(timeout=10)
