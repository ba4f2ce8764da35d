"""What every browser test shares: Debian's chromium (never a downloaded browser) driven by Playwright, and
the app served on a free port. Without chromium the browser tests are skipped, unless REQUIRE_BROWSER is set
(as in CI), where that is an error."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).resolve().parent

if not Path(CHROMIUM).exists() and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")


def pytest_collection_modifyitems(config, items):
    missing = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(missing)


@pytest.fixture
def live_server(app, gateway):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
