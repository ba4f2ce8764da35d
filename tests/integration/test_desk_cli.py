"""The desk's commands, run as a user runs them: the same services as the dashboard."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from sms_gateway.bootstrap import build_gateway
from sms_gateway.settings import Settings
from tests.integration.test_cli import _run, cli_env  # noqa: F401  (the fixture)
from tests.support import deliver


def test_create_a_unit_account_refer_note_assign_and_return_from_the_command_line(cli_env):  # noqa: F811
    _run(cli_env, "create-staff", "--username", "khadamat2", "--password", "long-enough-1", "--role", "unit",
         "--department", "urban_services", "--region", "2")
    _run(cli_env, "create-staff", "--username", "zahra", "--password", "long-enough-1")
    wrong = _run(cli_env, "create-staff", "--username", "x", "--password", "long-enough-1", "--role", "unit",
                 "--department", "fire", check=False)
    assert wrong.returncode != 0 and "fire" in wrong.stderr
    gateway = build_gateway(Settings(database_url=cli_env["SMS_GATEWAY_DATABASE_URL"], provider="console"))
    code = deliver(gateway, "زباله ها جمع نشده تو کوی بهارستان").ticket_code
    gateway.engine.dispose()

    referred = _run(cli_env, "tickets", "refer", code, "--unit", "urban_services:2", "--actor", "op1",
                    "--now", "2026-11-24T10:00:00").stdout
    assert "urban_services:2" in referred and "2026-11-25T10:00:00" in referred
    again = _run(cli_env, "tickets", "refer", code, "--unit", "urban_services:2", check=False)
    assert again.returncode != 0 and "از پیش" in again.stderr
    _run(cli_env, "tickets", "note", code, "پیمانکار خبر شد", "--actor", "op1")
    _run(cli_env, "tickets", "assign", code, "--to", "zahra")
    _run(cli_env, "tickets", "return", code, "--reason", "کار فضای سبز است", "--actor", "khadamat2")
    shown = json.loads(_run(cli_env, "tickets", "show", code, "--json").stdout)
    assert shown["status"] == "registered" and shown["unit"] is None and shown["assignee"] == "zahra"
    assert [n["text"] for n in shown["notes"]] == ["پیمانکار خبر شد"]
    actions = [i["action"] for i in shown["items"] if i["kind"] == "event"]
    assert {"referred_to_unit", "assigned", "returned"} <= set(actions)


def test_the_audit_from_the_command_line(cli_env):  # noqa: F811
    gateway = build_gateway(Settings(database_url=cli_env["SMS_GATEWAY_DATABASE_URL"], provider="console"))
    code = deliver(gateway, "زباله ها جمع نشده تو کوی بهارستان", now=datetime(2026, 11, 24, 9, tzinfo=UTC)).ticket_code
    gateway.engine.dispose()
    _run(cli_env, "tickets", "refer", code, "--unit", "urban_services:2", "--now", "2026-11-24T10:00:00")
    _run(cli_env, "tickets", "set-status", code, "done", "--now", "2026-11-24T12:00:00")
    assert _run(cli_env, "audit", "draw", "--now", "2026-12-01T09:00:00").stdout.startswith("1 ")
    assert _run(cli_env, "audit", "draw", "--now", "2026-12-01T10:00:00").stdout.startswith("0 ")
    listed = json.loads(_run(cli_env, "audit", "list", "--json").stdout)
    assert [(s["code"], s["unit"], s["week"], s["review"]) for s in listed] == [
        (code, "urban_services:2", "2026-11-21", "pending")]
    refused = _run(cli_env, "audit", "review", str(listed[0]["id"]), "--outcome", "reopened", check=False)
    assert refused.returncode != 0 and "یادداشت" in refused.stderr
    _run(cli_env, "audit", "review", str(listed[0]["id"]), "--outcome", "reopened", "--note", "عکس ندارد",
         "--actor", "sup")
    shown = json.loads(_run(cli_env, "tickets", "show", code, "--json").stdout)
    assert shown["status"] == "reopened"
