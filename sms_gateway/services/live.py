"""The live queue's poll: which tickets of a view changed since the page last asked. While no one writes
it is one range scan of an index that finds nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..adapters.models import Ticket
from ..domain.staff import Viewer
from .context import Context
from .queue import QueueFilters, _filtered, pinned_condition, rows_of, rows_query

# A transaction that began before another but committed after it carries the older `now`: every poll looks
# this far back, and the page skips a row whose (code, updated_at) it already shows.
SLACK = timedelta(seconds=30)
MAX_ROWS = 100


@dataclass(frozen=True)
class Changes:
    mark: datetime                # what the page sends as `since` next time: now
    rows: list[dict[str, Any]]    # oldest change first; each with `pinned`


def parse_since(text: str, now: datetime) -> datetime:
    """The page's `since` (ISO 8601 with its zone); anything else is now."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return now
    return moment if moment.tzinfo else now


def changes(ctx: Context, viewer: Viewer, f: QueueFilters, since: datetime, now: datetime) -> Changes:
    """Tickets in this view (its filters, the viewer's reach), and pinned emergencies, updated after `since`
    less SLACK; first one probe of the index on updated_at, which is all it costs while no one writes."""
    after = Ticket.updated_at > since - SLACK
    with ctx.sessions() as session:
        if session.scalar(select(Ticket.id).where(after).limit(1)) is None:
            return Changes(max(since, now), [])
        base = rows_query(viewer).where(after)
        found = {row[0].id: row for query in (_filtered(base, f, now, viewer), base.where(pinned_condition()))
                 for row in session.execute(query.order_by(Ticket.updated_at, Ticket.id).limit(MAX_ROWS)).all()}
    rows = rows_of(sorted(found.values(), key=lambda row: (row[0].updated_at, row[0].id)), viewer, now)
    return Changes(max([since, now, *(r["updated_at"] for r in rows)]), rows)
