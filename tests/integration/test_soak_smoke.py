"""bench/soak.py with tiny numbers (issue 14, the soak): a few seconds of mixed webhooks, staff, scheduler
runs and a worker killed with SIGKILL lose and duplicate nothing. PostgreSQL only, as the soak is."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="the soak runs on PostgreSQL")
def test_a_tiny_soak_loses_and_duplicates_nothing(capsys):
    sys.path.insert(0, str(SOAK.parent))
    try:
        spec = importlib.util.spec_from_file_location("soak", SOAK)
        soak = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(soak)
        figures = soak.main(["--database-url", os.environ["TEST_DATABASE_URL"], "--minutes", "0.12", "--rate", "3",
                             "--clients", "3"])
    finally:
        sys.path.remove(str(SOAK.parent))
    assert figures["messages in"] > 5 and figures["tickets"] > 0
    assert figures["lost (acknowledged, not stored)"] == 0 and figures["never acknowledged"] == 0
    assert figures["duplicated: deliveries stored twice"] == 0
    assert figures["duplicated: reports ticketed twice"] == 0
    assert figures["duplicated: one outbound reaching Kavenegar twice"] == 0
    assert figures["back office"].get("workers killed (SIGKILL)") == 1
    assert "lost (acknowledged, not stored)" in capsys.readouterr().out
