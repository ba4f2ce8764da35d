"""A webhook token is never logged, whatever path it arrives on (issue 14, item 17): near misses of the
routes (no `/sms`, a trailing slash, another case, doubled slashes, percent-encoding, a missing
`/webhooks`, a wrong method) are masked in the request log like the routes themselves."""
from __future__ import annotations

import logging

import pytest

from sms_gateway.adapters.logs import safe_path
from tests.conftest import KAVE_TOKEN, MELI_TOKEN

NEAR_MISSES = [
    "/webhooks/kavenegar/{k}", "/webhooks/kavenegar/{k}/", "/webhooks/kavenegar/{k}/smss",
    "/webhooks/kavenegar/{k}/sms/extra", "/WEBHOOKS/kavenegar/{k}/sms", "/webhooks/Kavenegar/{k}/sms",
    "//webhooks//kavenegar//{k}", "/webhooks/kave%6Eegar/{k}", "/kavenegar/{k}/sms", "/webhook/kavenegar/{k}/sms",
    "/webhooks/{k}/sms", "/webhooks/melipayamak/{m}", "/webhooks/melipayamak/{m}/sms/", "/api/{m}",
    "/webhooks/kavenegar/x/{k}", "/static/{k}",
]


def _records_text(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


@pytest.mark.parametrize("template", NEAR_MISSES)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_token_on_a_near_miss_path_is_never_logged(client, caplog, template, method):
    path = template.format(k=KAVE_TOKEN, m=MELI_TOKEN)
    with caplog.at_level(logging.DEBUG):
        response = client.open(path, method=method, data={"from": "09121234567", "message": "x"})
    assert response.status_code in (200, 302, 400, 403, 404, 405, 308)
    logged = _records_text(caplog)
    assert KAVE_TOKEN not in logged and MELI_TOKEN not in logged, path


@pytest.mark.parametrize("path,masked", [
    ("/webhooks/kavenegar/abc/sms", "/webhooks/kavenegar/***/sms"),
    ("/webhooks/kavenegar/" + KAVE_TOKEN, "/webhooks/kavenegar/***"),
    ("/tickets/12345678", "/tickets/12345678"),
    ("/static/fonts/Vazirmatn-Regular.woff2", "/static/fonts/Vazirmatn-Regular.woff2"),
    ("/open311/v2/requests/12345678.json", "/open311/v2/requests/12345678.json"),
])
def test_safe_path_masks_tokens_and_leaves_other_paths_alone(path, masked):
    assert safe_path(path) == masked
