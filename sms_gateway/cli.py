"""`sms-gateway`: serve, migrate, staff, tickets, API keys, simulate, classify, evaluate, scheduled work.
Every command that acts on time takes --now (an ISO-8601 instant; naive means UTC)."""
from __future__ import annotations

import json
import logging
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

import click

from .settings import SettingsError, load_settings


def _settings():
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO-8601 time: {value!r}", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _gateway(now_text: str | None = None, running: bool = False):
    """The gateway with the command's clock: --now fixed, or (running) starting at --now and running on."""
    from .bootstrap import build_gateway

    start = _instant(now_text)
    clock: Callable[[], datetime] | None = None
    if start is not None:
        origin = monotonic()
        clock = (lambda: start + timedelta(seconds=monotonic() - origin)) if running else (lambda: start)
    return build_gateway(_settings(), clock=clock)


now_option = click.option("--now", "now_text", default=None, metavar="ISO-8601",
                          help="the instant to act as of (default: now; naive = UTC)")


@click.group()
def main() -> None:
    """The 137 citizen gateway."""
    import os

    from .adapters.logs import configure

    level = os.environ.get("SMS_GATEWAY_LOG_LEVEL", "info").upper()
    configure(os.environ.get("SMS_GATEWAY_LOG_FORMAT", "json" if not sys.stderr.isatty() else "text"),
              getattr(logging, level, logging.INFO))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int, help="threads per worker")
@click.option("--login-hint", default=None, type=click.Path(dir_okay=False),
              help="a file with the demo password (make run's), shown in the start-up lines")
def serve(host: str, port: int, workers: int, threads: int, login_hint: str | None) -> None:
    """Serve the web app with gunicorn (production WSGI server)."""
    import os

    from .web.server import PortInUse, run

    settings = _settings()
    try:
        from .domain.city import load_city

        city = load_city(settings.city_data)
        from pathlib import Path

        from .web.server import check_port

        check_port(host, port)
        from .domain.text import persian_digits

        click.echo(f"\nسامانه {persian_digits(city.phone)} شهرداری {city.name} is running: "
                   f"open http://{host}:{port}/ in a browser")
        if login_hint and Path(login_hint).exists():
            click.echo(f"  staff login: username demo, password {Path(login_hint).read_text().strip()}"
                       f"  (kept in {login_hint})")
        click.echo("  Ctrl-C stops it.\n")
        run(settings, host, port, workers, threads, os.environ.get("SMS_GATEWAY_LOG_LEVEL", "info").lower())
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the newest."""
    from pathlib import Path

    from .adapters.db import make_engine
    from .adapters.migrate import upgrade

    settings = _settings()
    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    click.echo("database is up to date")


@main.command("create-staff")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["operator", "supervisor", "admin", "unit"]), default="operator")
@click.option("--region", type=int, default=None)
@click.option("--department", default=None, help="role unit: the unit's department (urban_services…)")
@now_option
def create_staff_command(username: str, password: str, role: str, region: int | None, department: str | None,
                         now_text: str | None) -> None:
    """Create a staff login; a unit account (--role unit) belongs to the unit of --department [--region]."""
    from .services.staff import StaffError, create_staff

    gateway = _gateway(now_text)
    try:
        create_staff(gateway.sessions, username, password, role, region, gateway.clock(), department=department,
                     city=gateway.city)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"کاربر {username} با نقش {role} ساخته شد")


@main.command("demo-login")
@click.option("--save", "save_to", default=None, type=click.Path(dir_okay=False),
              help="also keep the password in this file (readable by you only), to show it again later")
@now_option
def demo_login(save_to: str | None, now_text: str | None) -> None:
    """Create the demo admin once and print its password; with --save, print it again on later runs."""
    import os
    from pathlib import Path

    from .services.staff import StaffError, create_staff

    gateway = _gateway(now_text)
    password = secrets.token_urlsafe(9)
    try:
        create_staff(gateway.sessions, "demo", password, "admin", None, gateway.clock())
    except StaffError:
        saved = Path(save_to) if save_to else None
        if saved and saved.exists():
            click.echo(f"demo login: username demo, password {saved.read_text().strip()}")
        else:
            click.echo("demo login exists (username: demo); its password was shown when it was made")
        return
    if save_to:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        Path(save_to).write_text(password + "\n")
        os.chmod(save_to, 0o600)
    click.echo(f"demo login: username demo, password {password}" + ("" if save_to else "  (shown once)"))


@main.command("demo-data")
@click.option("--count", default=300, show_default=True, help="how many citizen messages to simulate")
@click.option("--days", default=45, show_default=True, help="spread over the N days before --now")
@click.option("--force", is_flag=True, help="add demo tickets even when the database has tickets")
@now_option
def demo_data(count: int, days: int, force: bool, now_text: str | None) -> None:
    """Fill the database with realistic demo requests across regions and statuses (console provider only)."""
    from sqlalchemy import func, select

    from .adapters.models import Ticket
    from .services.demo import fill

    gateway = _gateway(now_text)
    if gateway.settings.provider != "console":
        raise click.ClickException("demo data sends its SMS through the console provider only")
    with gateway.sessions() as session:
        existing = session.scalar(select(func.count(Ticket.id)))
    if existing and not force:
        click.echo(f"the database has {existing} tickets: demo data not added (--force adds it anyway)")
        return
    made = fill(gateway.ctx, gateway.clock(), count=count, days=days)
    click.echo(f"demo data: {made} requests from {count} messages over {days} days")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1,
                      default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


@main.group()
def tickets() -> None:
    """Look at and act on tickets, as staff do in the dashboard."""


@tickets.command("list")
@click.option("--status", default="")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@now_option
def tickets_list(status: str, limit: int, as_json: bool, now_text: str | None) -> None:
    """The newest tickets."""
    from .domain.staff import command_line_viewer
    from .services.queue import QueueFilters, queue

    gateway = _gateway(now_text)
    rows = queue(gateway.ctx, command_line_viewer(), QueueFilters(status=status), gateway.clock(),
                 page_size=limit, summary=False).rows
    if as_json:
        click.echo(_json(rows))
        return
    for r in rows:
        click.echo(f"{r['code']}  {r['status']:<11} {r['category'] or '-':<20} "
                   f"{r['neighbourhood'] or '-'} ({r['region'] or '?'})  {r['phone']}  {r['opened_at'].isoformat()}")


@tickets.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@now_option
def tickets_show(code: str, as_json: bool, now_text: str | None) -> None:
    """One ticket with its messages and events (a code in any digit script)."""
    from .domain.staff import command_line_viewer
    from .services.ticket_view import ticket_view
    from .services.tickets import TicketNotFound

    gateway = _gateway(now_text)
    try:
        view = ticket_view(gateway.ctx, command_line_viewer(), code, gateway.clock())
    except TicketNotFound:
        raise click.ClickException(f"درخواستی با کد {code} نیست") from None
    if as_json:
        click.echo(_json(view))
        return
    for key, value in view.items():
        if key != "items":
            click.echo(f"{key}: {value}")
    for i in view["items"]:
        click.echo(f"  {i['at'].isoformat()}  {i['kind']}  {i.get('actor') or i.get('status') or ''}: "
                   f"{i.get('action') or ''} {i['text']}")


@tickets.command("set-status")
@click.argument("code")
@click.argument("status")
@click.option("--note", default="", help="the reason; required for not_doable and told to the citizen")
@click.option("--actor", default="cli", show_default=True, help="who made the change, for the event log")
@now_option
def tickets_set_status(code: str, status: str, note: str, actor: str, now_text: str | None) -> None:
    """Change a ticket's status through the same service as the dashboard."""
    from .domain.staff import command_line_viewer
    from .services.tickets import Refused, TicketNotFound, change_status

    gateway = _gateway(now_text)
    try:
        ticket = change_status(gateway.ctx, command_line_viewer(actor), code, status, note, gateway.clock())
    except TicketNotFound:
        raise click.ClickException(f"درخواستی با کد {code} نیست") from None
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{ticket.tracking_code} is now {ticket.status}")


@tickets.command("create")
@click.option("--phone", required=True, help="the caller's mobile: the tracking code and follow-ups go to it by SMS")
@click.option("--text", required=True, help="what the caller said")
@click.option("--category", default="", help="a category code of the city (default: read from the text)")
@click.option("--neighbourhood", default="", help="a place of the city (default: read from the text)")
@click.option("--channel", type=click.Choice(["phone"]), default="phone", show_default=True)
@click.option("--actor", default="cli", show_default=True, help="who typed the call in, for the event log")
@click.option("--json", "as_json", is_flag=True, help="print the new ticket as JSON")
@now_option
def tickets_create(phone: str, text: str, category: str, neighbourhood: str, channel: str, actor: str,
                   as_json: bool, now_text: str | None) -> None:
    """Open a ticket for a phone call, through the same service as the dashboard's call page."""
    from .domain.staff import command_line_viewer
    from .services.calls import file_call
    from .services.ticket_view import ticket_view
    from .services.tickets import Refused

    gateway, viewer = _gateway(now_text), command_line_viewer(actor)
    try:
        filed = file_call(gateway.ctx, viewer, phone, text, category, neighbourhood, gateway.clock())
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    if filed.code is None:
        raise click.ClickException(f"درخواستی ثبت نشد؛ پیامک تماس‌گیرنده: {filed.reply or '—'}")
    if as_json:
        view = ticket_view(gateway.ctx, viewer, filed.code, gateway.clock())
        click.echo(_json({**view, "reply": filed.reply, "reply_status": filed.sent}))
        return
    click.echo(f"{filed.code}  {filed.reply}")


def _desk_action(action: Callable[..., Any], code: str, *args: Any, actor: str = "cli",
                 now_text: str | None = None) -> Any:
    """Run one of the desk's staff actions as the dashboard does, with its refusal said plainly."""
    from .domain.staff import command_line_viewer
    from .services.tickets import Refused, TicketNotFound

    gateway = _gateway(now_text)
    try:
        return action(gateway.ctx, command_line_viewer(actor), code, *args, gateway.clock())
    except TicketNotFound:
        raise click.ClickException(f"درخواستی با کد {code} نیست") from None
    except Refused as exc:
        raise click.ClickException(str(exc)) from None


actor_option = click.option("--actor", default="cli", show_default=True, help="who did it, for the event log")


@tickets.command("refer")
@click.argument("code")
@click.option("--unit", required=True, help="the unit's code (urban_services:2) or Persian label")
@click.option("--note", default="")
@actor_option
@now_option
def tickets_refer(code: str, unit: str, note: str, actor: str, now_text: str | None) -> None:
    """«ارجاع به واحد»: refer a ticket to an executive unit; the unit's SLA starts now."""
    from .services.tickets import refer_to_unit

    ticket = _desk_action(refer_to_unit, code, unit, note, actor=actor, now_text=now_text)
    click.echo(f"{ticket.tracking_code} referred to {ticket.unit}, due {ticket.unit_due_at.isoformat()}")


@tickets.command("return")
@click.argument("code")
@click.option("--reason", required=True)
@actor_option
@now_option
def tickets_return(code: str, reason: str, actor: str, now_text: str | None) -> None:
    """A unit sends a ticket back to the 137 centre, with the reason."""
    from .services.tickets import return_to_centre

    ticket = _desk_action(return_to_centre, code, reason, actor=actor, now_text=now_text)
    click.echo(f"{ticket.tracking_code} is back with the 137 centre ({ticket.status})")


@tickets.command("assign")
@click.argument("code")
@click.option("--to", "assignee", required=True, help="the colleague's username; empty takes it back")
@actor_option
@now_option
def tickets_assign(code: str, assignee: str, actor: str, now_text: str | None) -> None:
    """«ارجاع به همکار»: assign a ticket to a colleague who can see it."""
    from .services.tickets import assign

    ticket = _desk_action(assign, code, assignee, actor=actor, now_text=now_text)
    click.echo(f"{ticket.tracking_code} assigned to {assignee or 'nobody'}")


@tickets.command("note")
@click.argument("code")
@click.argument("text")
@actor_option
@now_option
def tickets_note(code: str, text: str, actor: str, now_text: str | None) -> None:
    """An internal note on a ticket: staff only, never sent to the citizen."""
    from .services.tickets import add_note

    _desk_action(add_note, code, text, actor=actor, now_text=now_text)
    click.echo(f"note added to {code}")


@main.group()
def audit() -> None:
    """The weekly audit of the units' closed tickets (the dashboard's «بازبینی»)."""


@audit.command("draw")
@now_option
def audit_draw(now_text: str | None) -> None:
    """Draw last week's sample of every unit now (the scheduler does it hourly; a second draw adds nothing)."""
    from .scheduler import run_audit

    gateway = _gateway(now_text)
    click.echo(f"{run_audit(gateway, gateway.clock())} tickets drawn for review")


@audit.command("list")
@click.option("--json", "as_json", is_flag=True)
def audit_list(as_json: bool) -> None:
    """The samples to review (oldest week first), then the latest reviewed."""
    from .domain.staff import command_line_viewer
    from .services.audit import review_list

    samples = review_list(_gateway().ctx, command_line_viewer())
    if as_json:
        click.echo(_json(samples))
        return
    for s in samples:
        click.echo(f"{s['id']}  {s['week']}  {s['code']}  {s['unit']:<20} {s['review']}  {s['reviewer'] or ''}")


@audit.command("review")
@click.argument("sample_id", type=int)
@click.option("--outcome", type=click.Choice(["sound", "reopened"]), required=True)
@click.option("--note", default="", help="required to reopen: what was wrong")
@actor_option
@now_option
def audit_review(sample_id: int, outcome: str, note: str, actor: str, now_text: str | None) -> None:
    """Record the review of one sample, as the «بازبینی» page does: sound, or reopened with a note."""
    from .domain.staff import command_line_viewer
    from .services.audit import review
    from .services.tickets import Refused

    gateway = _gateway(now_text)
    try:
        review(gateway.ctx, command_line_viewer(actor), sample_id, outcome, note, gateway.clock())
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sample {sample_id}: {outcome}")
@tickets.command("close")
@click.argument("codes", nargs=-1, required=True)
@click.option("--status", type=click.Choice(["done", "not_doable"]), default="done", show_default=True)
@click.option("--note", default="", help="one reason for all; required for not_doable and told to each citizen")
@click.option("--actor", default="cli", show_default=True, help="who closed them, for the event log")
@now_option
def tickets_close(codes: tuple[str, ...], status: str, note: str, actor: str, now_text: str | None) -> None:
    """Close several tickets with one reason (the dashboard's bulk close); says which could not be."""
    from .domain.staff import command_line_viewer
    from .services.bulk import close_many

    gateway = _gateway(now_text)
    result = close_many(gateway.ctx, command_line_viewer(actor), list(codes), status, note, gateway.clock())
    for code in result.changed:
        click.echo(f"{code} is now {status}")
    for code, reason in result.refused:
        click.echo(f"{code}: {reason}", err=True)
    if result.refused:
        raise SystemExit(1)


def _bulk_report(result) -> None:
    for code in result.changed:
        click.echo(f"{code} done")
    for code, reason in result.refused:
        click.echo(f"{code}: {reason}", err=True)
    if result.refused:
        raise SystemExit(1)


@tickets.command("refer-many")
@click.argument("codes", nargs=-1, required=True)
@click.option("--unit", required=True, help="the unit's code (urban_services:2) or Persian label")
@click.option("--note", default="")
@actor_option
@now_option
def tickets_refer_many(codes: tuple[str, ...], unit: str, note: str, actor: str, now_text: str | None) -> None:
    """Refer several tickets to one unit (the dashboard's bulk referral); says which could not be."""
    from .domain.staff import command_line_viewer
    from .services.bulk import refer_many

    gateway = _gateway(now_text)
    _bulk_report(refer_many(gateway.ctx, command_line_viewer(actor), list(codes), unit, note, gateway.clock()))


@tickets.command("assign-many")
@click.argument("codes", nargs=-1, required=True)
@click.option("--to", "assignee", required=True, help="the colleague's username")
@actor_option
@now_option
def tickets_assign_many(codes: tuple[str, ...], assignee: str, actor: str, now_text: str | None) -> None:
    """Assign several tickets to one colleague (the dashboard's bulk assignment); says which could not be."""
    from .domain.staff import command_line_viewer
    from .services.bulk import assign_many

    gateway = _gateway(now_text)
    _bulk_report(assign_many(gateway.ctx, command_line_viewer(actor), list(codes), assignee, gateway.clock()))


@tickets.command("merge")
@click.argument("code")
@click.option("--into", "into", required=True, help="the tracking code of the ticket that stays")
@actor_option
@now_option
def tickets_merge(code: str, into: str, actor: str, now_text: str | None) -> None:
    """Merge a duplicate into another ticket (the dashboard's merge): it follows that ticket from now on."""
    from .services.bulk import merge

    survivor = _desk_action(merge, code, into, actor=actor, now_text=now_text)
    click.echo(f"{code} merged into {survivor}")


@main.group("api-key")
def api_key() -> None:
    """Keys of the applications that use the Open311 API (the municipality's website, its apps)."""


@api_key.command("create")
@click.option("--name", required=True, help="the application, e.g. website or android-app")
@now_option
def api_key_create(name: str, now_text: str | None) -> None:
    """Make a key and print it: it is shown this once (only its hash is kept)."""
    from .services.api_keys import ApiKeyError, create_key

    gateway = _gateway(now_text)
    try:
        token = create_key(gateway.sessions, name, gateway.clock())
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(f"کلید «{name}» ساخته شد؛ فقط همین یک بار نشان داده می‌شود.", err=True)


@api_key.command("list")
@click.option("--json", "as_json", is_flag=True)
def api_key_list(as_json: bool) -> None:
    """Every key by name: when made, last used, revoked (never the key)."""
    from .services.api_keys import list_keys

    keys = list_keys(_gateway().sessions)
    if as_json:
        click.echo(_json([k.__dict__ for k in keys]))
        return
    for k in keys:
        used = k.last_used_at.isoformat() if k.last_used_at else "-"
        state = f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "active"
        click.echo(f"{k.name}  created {k.created_at.isoformat()}  last used {used}  {state}")


@api_key.command("revoke")
@click.argument("name")
@now_option
def api_key_revoke(name: str, now_text: str | None) -> None:
    """Refuse the key from now on (403); its row is kept."""
    from .services.api_keys import ApiKeyError, revoke_key

    gateway = _gateway(now_text)
    try:
        revoke_key(gateway.sessions, name, gateway.clock())
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"کلید «{name}» باطل شد")


@main.command()
@now_option
def corrections(now_text: str | None) -> None:
    """Staff corrections as labelled JSON lines (the corpus format): `evaluate` and `train` read them."""
    from .services.corrections import corrected_examples

    for row in corrected_examples(_gateway(now_text).sessions):
        click.echo(json.dumps(row, ensure_ascii=False))


@main.command("run-due")
@now_option
def run_due_command(now_text: str | None) -> None:
    """Run the due work once and print one JSON line per message sent."""
    from .scheduler import run_due

    gateway = _gateway(now_text)
    for sent in run_due(gateway, gateway.clock()):
        if sent.status == "sent":
            click.echo(json.dumps(sent.as_json(), ensure_ascii=False))


@main.command()
@click.option("--months", type=int, default=None, help="default: retention_months from the config")
@now_option
def retention(months: int | None, now_text: str | None) -> None:
    """Anonymise the numbers of citizens whose tickets all closed more than N months ago."""
    from .services.retention import anonymise_closed
    from .settings import retention_secret

    gateway = _gateway(now_text)
    months = months or gateway.settings.retention_months
    try:
        key = retention_secret(gateway.settings)
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    count = anonymise_closed(gateway.sessions, months, gateway.clock(), key)
    click.echo(f"anonymised {count} citizens whose tickets all closed more than {months} months ago")


@main.command()
@click.option("--now", "now_text", default=None, metavar="ISO-8601",
              help="the instant the scheduler's clock starts at, then runs on (default: the real time)")
def scheduler(now_text: str | None) -> None:
    """Run the scheduler (one per deployment): follow-ups, the outbox, retries, polling."""
    from .scheduler import run_scheduler

    run_scheduler(_gateway(now_text, running=True))


@main.command()
@click.argument("text")
@click.option("--from", "sender", required=True, help="the citizen's phone number")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
def simulate(text: str, sender: str, url: str) -> None:
    """Send TEXT to a running server's console webhook and print the reply."""
    import requests

    try:
        response = requests.post(f"{url.rstrip('/')}/webhooks/console/sms",
                                 json={"from": sender, "text": text}, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"server at {url} not reachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise click.ClickException(f"HTTP {response.status_code}: {response.text[:200]}")
    click.echo(response.json()["reply"])


@main.command()
def classify() -> None:
    """Read JSON lines {"text": ...} on stdin, write one JSON result per line, streaming."""
    from .domain.city import load_city
    from .understanding import Classifier
    from .understanding.evaluate import classify_lines

    settings = _settings()
    classify_lines(Classifier(load_city(settings.city_data)), sys.stdin, sys.stdout, settings.max_text_chars)


@main.command()
@click.argument("corpus", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="where to write the model (default: the file shipped in the package)")
@click.option("--check", is_flag=True, help="also score the whole classifier on each writer, held out")
def train(corpus: tuple[str, ...], out: str | None, check: bool) -> None:
    """Train the understanding model from labelled files (default: corpus/*.jsonl), staff corrections
    (`sms-gateway corrections > c.jsonl`) among them; prints held-out figures per writer."""
    from pathlib import Path

    from .domain.city import load_city
    from .understanding.model import MODEL_FILE
    from .understanding.train import held_out_pipeline
    from .understanding.train import train as train_model

    paths = list(corpus) or sorted(str(p) for p in Path("corpus").glob("*.jsonl"))
    if not paths:
        raise click.UsageError("no labelled files: name them, or run from a checkout with corpus/")
    folds: dict[str, Any] = {}
    model = train_model(paths, sys.stdout, folds_out=folds if check else None)
    target = Path(out) if out else MODEL_FILE
    target.write_bytes(model.to_bytes())
    click.echo(f"model written to {target} ({target.stat().st_size / 1e6:.1f} MB)")
    if check:
        held_out_pipeline(paths, folds, load_city(_settings().city_data), sys.stdout)


@main.command()
@click.argument("corpus", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def evaluate(corpus: tuple[str, ...]) -> None:
    """Score the classifier on labelled JSON-lines corpora, file by file (one file per writer)."""
    from .domain.city import load_city
    from .understanding import Classifier
    from .understanding.evaluate import print_report, read_corpus, score

    if not corpus:
        raise click.UsageError("name one or more labelled .jsonl files")
    classifier = Classifier(load_city(_settings().city_data))
    for path in corpus:
        click.echo(f"== {path}")
        print_report(score(read_corpus(path), classifier), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
