"""What operators of the service watch: /metrics, structured logs without secrets or phone numbers."""
from __future__ import annotations

import json
import logging
import re

from sms_gateway.adapters.logs import JsonFormatter, safe_path
from tests.conftest import METRICS_TOKEN
from tests.support import set_status


def say(client, text, sender="09121234567"):
    return client.post("/webhooks/console/sms", json={"from": sender, "text": text}).get_json()["reply"]


def metric(text: str, name: str) -> float:
    return float(re.search(rf"^{re.escape(name)} (\S+)$", text, re.M).group(1))


def test_metrics_in_prometheus_text_format(client, gateway, clock):
    say(client, "چاله عمیق تو خیابون فین")
    say(client, "زباله ها جمع نشده تو طاهرآباد", "09130000000")
    code = re.search(r"[۰-۹]{8}", say(client, "سگ ولگرد تو پارک طاهرآباد", "09350000000")).group(0)
    set_status(gateway, code, "referred", "", "op")
    clock.advance(minutes=5)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert metric(body, "sms_gateway_inbound_messages_total") == 3
    assert metric(body, 'sms_gateway_outbound_messages{status="sent"}') == 3
    assert metric(body, "sms_gateway_outbox_queue_depth") == 1
    assert metric(body, "sms_gateway_outbox_oldest_due_age_seconds") == 300
    assert metric(body, 'sms_gateway_tickets{status="referred"}') == 1
    assert metric(body, "sms_gateway_classify_seconds_count") >= 3
    assert "# TYPE sms_gateway_outbox_queue_depth gauge" in body


def test_log_lines_are_json_with_masked_phones_and_no_secrets(client, gateway, caplog):
    caplog.set_level(logging.INFO)
    client.post("/webhooks/kavenegar/kave-token-0123456789abcdef/sms", data={
        "messageid": "1", "from": "09121234567", "to": "10007000137", "message": "چاله عمیق تو خیابون فین"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert "kave-token-0123456789abcdef" not in text and "kave-key-SECRET" not in text
    assert "09121234567" not in text and "9121234567" not in text
    request = next(line for line in lines if line["msg"] == "request")
    assert request["path"] == "/webhooks/kavenegar/***/sms" and request["method"] == "POST"
    assert isinstance(request["ms"], float) and request["status"] == 200
    assert safe_path("/webhooks/melipayamak/abc/sms") == "/webhooks/melipayamak/***/sms"
