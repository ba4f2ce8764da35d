"""Storage: typed SQLAlchemy 2 mappings. Schema changes go through Alembic migrations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, CleanJSON, CleanString, CleanText, UTCDateTime


class Citizen(Base):
    """A person; reached through one or more contacts (an SMS number, a Bale chat…)."""

    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    """Where a citizen is reached: a channel and an address on it (sms + +98…)."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contact_channel_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    channel: Mapped[str] = mapped_column(CleanString(20))
    address: Mapped[str] = mapped_column(CleanString(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundMessage(Base):
    """A message as the provider delivered it, stored before anything reads it; what reading it gave
    (intent, ticket, reply) is filled in by the same transaction, or later by a retry."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id", name="uq_inbound_provider_id"),
                      Index("ix_inbound_state", "state", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(CleanString(20))
    provider_message_id: Mapped[str] = mapped_column(CleanString(100))
    channel: Mapped[str] = mapped_column(CleanString(20), default="sms")
    sender: Mapped[str] = mapped_column(CleanString(64))
    to_number: Mapped[str] = mapped_column(CleanString(40), default="")
    text: Mapped[str] = mapped_column(CleanText)
    raw_payload: Mapped[dict] = mapped_column(CleanJSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(CleanString(12), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    intent: Mapped[str | None] = mapped_column(CleanString(30))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    reply_text: Mapped[str | None] = mapped_column(CleanText)


PINNED = text("emergency AND taken_at IS NULL")
AWAITING = text("status IN ('registered', 'referred', 'in_progress', 'reopened')")  # domain.tickets.AWAITING_CITY


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_status_opened", "status", "opened_at"),
                      Index("ix_ticket_duplicate_lookup", "category", "neighbourhood", "opened_at"),
                      Index("ix_ticket_queue", "opened_at", "id"),
                      Index("ix_ticket_region_opened", "region", "opened_at"),
                      Index("ix_ticket_unit_opened", "unit", "opened_at"),
                      Index("ix_ticket_unit_closed", "unit", "closed_at"),
                      Index("ix_ticket_assignee_opened", "assignee_id", "opened_at"),
                      # a unit's and a colleague's status chips, counted from the index
                      Index("ix_ticket_unit_status", "unit", "status", "opened_at"),
                      Index("ix_ticket_assignee_status", "assignee_id", "status", "opened_at"),
                      Index("ix_ticket_updated", "updated_at"),  # the live queue's "what changed since"
                      # emergencies no one has taken yet, pinned on top of the queue
                      Index("ix_ticket_pinned", "opened_at", postgresql_where=PINNED, sqlite_where=PINNED),
                      # the overdue view, most days late first
                      Index("ix_ticket_overdue", "expected_at", "id", postgresql_where=AWAITING,
                            sqlite_where=AWAITING),
                      # a unit's overdue view by its own due time, and its chips (status read from the index)
                      Index("ix_ticket_unit_due", "unit", "unit_due_at", "id", "status", postgresql_where=AWAITING,
                            sqlite_where=AWAITING))

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(CleanString(12), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))  # follow-ups go here
    channel: Mapped[str] = mapped_column(CleanString(20), default="sms")  # where the request came in
    status: Mapped[str] = mapped_column(CleanString(20))
    intent: Mapped[str] = mapped_column(CleanString(30))
    category: Mapped[str | None] = mapped_column(CleanString(40))
    neighbourhood: Mapped[str | None] = mapped_column(CleanString(80))
    region: Mapped[int | None] = mapped_column(Integer, index=True)
    description: Mapped[str] = mapped_column(CleanText)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Conversation and follow-ups
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # opened + the category's SLA
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asked: Mapped[str | None] = mapped_column(CleanString(20))  # "place" or "category" while needs_info
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)  # the citizen never answered
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str | None] = mapped_column(CleanString(12))  # asked, accepted, objected
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervisor_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    unread: Mapped[bool] = mapped_column(Boolean, default=False)  # the citizen wrote since staff last opened it
    # The desk: the executive unit it is referred to (a city unit's code), when, and when the unit's SLA
    # (the category's hours from the referral) runs out; the colleague it is assigned to.
    unit: Mapped[str | None] = mapped_column(CleanString(60))
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    last_citizen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # opened, answered, wrote again
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # staff first set a status or replied

    events: Mapped[list["TicketEvent"]] = relationship(order_by="TicketEvent.id", back_populates="ticket")


class TicketEvent(Base):
    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    actor: Mapped[str] = mapped_column(CleanString(80))
    action: Mapped[str] = mapped_column(CleanString(40))
    note: Mapped[str] = mapped_column(CleanText, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketSeen(Base):
    """When a staff member last opened a ticket: what the citizen wrote after it is unread for them."""

    __tablename__ = "ticket_seen"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboundMessage(Base):
    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    channel: Mapped[str] = mapped_column(CleanString(20), default="sms")
    to_address: Mapped[str] = mapped_column(CleanString(64))
    text: Mapped[str] = mapped_column(CleanText)
    segments: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(CleanString(30))
    provider: Mapped[str] = mapped_column(CleanString(20))
    provider_message_id: Mapped[str | None] = mapped_column(CleanString(100), index=True)
    # queued → sending → sent → delivered | failed; suppressed (opt-out), superseded (a newer status won)
    status: Mapped[str] = mapped_column(CleanString(12))
    automated: Mapped[bool] = mapped_column(Boolean, default=False)  # deferred at night, stopped by opt-out
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(CleanString(80), unique=True)
    password_hash: Mapped[str] = mapped_column(CleanString(255))
    role: Mapped[str] = mapped_column(CleanString(20))  # operator, supervisor, admin, unit
    region: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(CleanString(40))  # role unit: its unit is department (+ region)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # In the session cookie; bumped on logout, password reset, disable and role change: older cookies fail.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    # Queue searches in the current window (services.staff.count_search), and when that window began.
    searches: Mapped[int] = mapped_column(Integer, default=0)
    searches_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(Base):
    """When each scheduled job last ran: /healthz and monitoring read it."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(CleanString(40), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(CleanText)


class LoginFailure(Base):
    """Failed logins of one username from one address, for throttling across web workers: how many, the
    last one, and until when that pair must wait before its next password is checked."""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("username", "ip", name="uq_login_failure_username_ip"),
                      Index("ix_login_failure_last_at", "last_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(CleanString(80))
    ip: Mapped[str] = mapped_column(CleanString(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Correction(Base):
    """A staff member corrected what the classifier read: the data to improve understanding."""

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    field: Mapped[str] = mapped_column(CleanString(20))  # category, neighbourhood
    old_value: Mapped[str | None] = mapped_column(CleanString(80))
    new_value: Mapped[str | None] = mapped_column(CleanString(80))
    text: Mapped[str] = mapped_column(CleanText)
    staff: Mapped[str] = mapped_column(CleanString(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedResponse(Base):
    """Ready answers for the reply box; seeded from templates/canned.toml, edited by admins."""

    __tablename__ = "canned_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(CleanString(80), unique=True)
    body: Mapped[str] = mapped_column(CleanText)


class ApiKey(Base):
    """A client application of the Open311 API (the municipality's website, an app). Only a SHA-256 of
    the key is kept; the key itself is shown once, when made. The current minute's request count lives
    on the row, so every web worker counts the same requests."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(80), unique=True)
    key_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the minute being counted
    window_count: Mapped[int] = mapped_column(Integer, default=0)


class AuditSample(Base):
    """A closed ticket drawn into a week's audit sample of its unit, and what its reviewer found. One row
    per ticket and week: drawing the same week again adds nothing."""

    __tablename__ = "audit_sample"
    __table_args__ = (UniqueConstraint("week", "ticket_id", name="uq_audit_sample_week_ticket"),
                      Index("ix_audit_sample_unit_week", "unit", "week"),
                      Index("ix_audit_sample_review", "review", "sampled_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    unit: Mapped[str] = mapped_column(CleanString(60))
    week: Mapped[str] = mapped_column(CleanString(10))  # the week's first day (Saturday), ISO date
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review: Mapped[str] = mapped_column(CleanString(12))  # pending, sound, reopened
    reviewer: Mapped[str | None] = mapped_column(CleanString(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(CleanText, default="")


class WebVerification(Base):
    """A report filed on the citizen web page, waiting for the one-time code sent by SMS to its number.
    Only a keyed hash of the code is kept; the row expires in minutes and takes a few attempts."""

    __tablename__ = "web_verification"
    __table_args__ = (Index("ix_web_verification_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(CleanString(40), unique=True)  # in the page's form: which report this is
    phone: Mapped[str] = mapped_column(CleanString(64))
    code_hash: Mapped[str] = mapped_column(CleanString(64))
    text: Mapped[str] = mapped_column(CleanText)
    place: Mapped[str] = mapped_column(CleanString(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebRateLimit(Base):
    """How many codes a number or an address asked for, or status pages an address opened, in the
    current window; keyed by a hash of what is counted, so no number is kept in clear here."""

    __tablename__ = "web_rate_limit"

    key: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
