"""`sms-gateway`: serve, migrate, staff, tickets, simulate, classify, evaluate."""
from __future__ import annotations

import json
import secrets
import sys

import click

from .settings import SettingsError, load_settings


def _settings():
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _gateway():
    from . import build_gateway

    return build_gateway(_settings())


@click.group()
def main() -> None:
    """Kashan 137 SMS gateway."""
    import os

    from .logs import configure

    configure(os.environ.get("SMS_GATEWAY_LOG_FORMAT", "json" if not sys.stderr.isatty() else "text"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int, help="threads per worker")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web app with gunicorn (production WSGI server)."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()

    from . import create_app

    app = create_app(settings)

    def fresh_pool(_server, _worker) -> None:
        # The app is built once, before the fork, so every worker is ready at once (a worker still
        # loading while the other took all 16 keep-alive connections of bench/load.py halved the rate).
        # Building it opens no connection today; should that change, none may cross the fork.
        app.extensions["sms_gateway"].engine.dispose(close=False)

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 30)
            self.cfg.set("preload_app", True)
            self.cfg.set("post_fork", fresh_pool)

        def load(self):
            return app

    _Server().run()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the newest."""
    from pathlib import Path

    from .db import make_engine
    from .migrate import upgrade

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
@click.option("--role", type=click.Choice(["operator", "supervisor", "admin"]), default="operator")
@click.option("--region", type=int, default=None)
def create_staff_command(username: str, password: str, role: str, region: int | None) -> None:
    """Create a staff login."""
    from .staff import StaffError, create_staff

    gateway = _gateway()
    try:
        create_staff(gateway.sessions, username, password, role, region, gateway.clock())
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {username}")


@main.command("demo-login")
def demo_login() -> None:
    """Create the demo admin once and print its password; print nothing new if it exists."""
    from .staff import StaffError, create_staff

    gateway = _gateway()
    password = secrets.token_urlsafe(9)
    try:
        create_staff(gateway.sessions, "demo", password, "admin", None, gateway.clock())
    except StaffError:
        click.echo("demo login exists (username: demo); reset it with create-staff under another name")
        return
    click.echo(f"demo staff login: username demo, password {password}  (shown once)")


@main.command("demo-data")
@click.option("--count", default=300, show_default=True, help="how many citizen messages to simulate")
@click.option("--days", default=45, show_default=True, help="spread over the last N days")
@click.option("--force", is_flag=True, help="add demo tickets even when the database has tickets")
def demo_data(count: int, days: int, force: bool) -> None:
    """Fill the database with realistic demo tickets across regions and statuses (console provider)."""
    from sqlalchemy import func, select

    from .demo import fill
    from .models import Ticket

    gateway = _gateway()
    with gateway.sessions() as session:
        existing = session.scalar(select(func.count(Ticket.id)))
    if existing and not force:
        click.echo(f"the database has {existing} tickets: demo data not added (--force adds it anyway)")
        return
    made = fill(gateway, count=count, days=days)
    click.echo(f"demo data: {made} tickets from {count} messages over {days} days")


@main.group()
def tickets() -> None:
    """Look at tickets."""


@tickets.command("list")
@click.option("--status", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def tickets_list(status: str | None, limit: int, as_json: bool) -> None:
    from .queries import list_tickets

    rows = list_tickets(_gateway().sessions, status=status, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"{r['code']}  {r['status']:<11} {r['category'] or '-':<20} "
                   f"{r['neighbourhood'] or '-'} ({r['region'] or '?'})  {r['phone']}  {r['opened_at']}")


@tickets.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
def tickets_show(code: str, as_json: bool) -> None:
    from .queries import ticket_detail
    from .understanding.normalize import to_latin_digits

    detail = ticket_detail(_gateway().sessions, to_latin_digits(code.strip()))
    if detail is None:
        raise click.ClickException(f"no ticket with code {code}")
    if as_json:
        click.echo(json.dumps(detail, ensure_ascii=False, indent=1))
        return
    for key, value in detail.items():
        if key != "events":
            click.echo(f"{key}: {value}")
    for e in detail["events"]:
        click.echo(f"  {e['at']}  {e['actor']}: {e['action']} {e['note']}")


@tickets.command("set-status")
@click.argument("code")
@click.argument("status")
@click.option("--note", default="", help="the reason; required for not_doable and told to the citizen")
@click.option("--actor", default="cli", show_default=True, help="who made the change, for the event log")
def tickets_set_status(code: str, status: str, note: str, actor: str) -> None:
    """Change a ticket's status through the same service the dashboard uses."""
    from .domain import IllegalTransition
    from .lifecycle import TicketNotFound, set_status_by_code
    from .understanding.normalize import to_latin_digits

    gateway = _gateway()
    try:
        ticket = set_status_by_code(gateway.sessions, to_latin_digits(code.strip()), status.strip(), actor, note,
                                    gateway.followups)
    except (IllegalTransition, TicketNotFound) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{ticket.tracking_code} is now {ticket.status}")


def _instant(value: str | None):
    from datetime import datetime, timezone

    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@main.command()
def corrections() -> None:
    """Staff corrections as labelled JSON lines (the corpus format): `evaluate` scores them."""
    from .queries import corrected_examples

    for row in corrected_examples(_gateway().sessions):
        click.echo(json.dumps(row, ensure_ascii=False))


@main.command("run-due")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant to run as (default: now; naive = UTC)")
def run_due_command(now_text: str | None) -> None:
    """Run the due work once and print one JSON line per message sent."""
    from . import build_gateway
    from .scheduler import run_due

    now = _instant(now_text)
    gateway = build_gateway(_settings(), clock=(lambda: now) if now else None)
    for sent in run_due(gateway, now):
        if sent.status == "sent":
            click.echo(json.dumps(sent.as_json(), ensure_ascii=False))


@main.command()
@click.option("--months", type=int, default=None, help="default: retention_months from the config")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant to run as (default: now)")
def retention(months: int | None, now_text: str | None) -> None:
    """Anonymise the numbers of citizens whose tickets all closed more than N months ago."""
    from .retention import anonymise_closed

    gateway = _gateway()
    months = months or gateway.settings.retention_months
    count = anonymise_closed(gateway.sessions, months, _instant(now_text) or gateway.clock(),
                             gateway.settings.secret_key)
    click.echo(f"anonymised {count} citizens whose tickets all closed more than {months} months ago")


@main.command()
def scheduler() -> None:
    """Run the scheduler (one per deployment): follow-ups, the outbox, polling."""
    from .scheduler import run_scheduler

    run_scheduler(_gateway())


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
    from .understanding import Classifier

    classifier = Classifier(_settings().city_data or None)
    for line_no, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            result = classifier.classify(text if isinstance(text, str) else "").as_json()
        except (ValueError, KeyError, TypeError):
            result = {"error": f"line {line_no}: expected a JSON object with a text field"}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@main.command()
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False))
def evaluate(corpus: str) -> None:
    """Score the classifier on a labelled JSON-lines corpus."""
    from .understanding import Classifier
    from .understanding.evaluate import print_report, score

    with open(corpus, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    print_report(score(rows, Classifier(_settings().city_data or None)), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
