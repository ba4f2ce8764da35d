"""Names for every value the product stores as a string: statuses, kinds, verdicts, channels."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "registered"
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DOABLE = "not_doable"
    NEEDS_INFO = "needs_info"
    REOPENED = "reopened"


class Verdict(StrEnum):
    ASKED = "asked"
    ACCEPTED = "accepted"
    OBJECTED = "objected"


class Channel(StrEnum):
    """Where a contact is reached and where a message came from."""

    SMS = "sms"
    BALE = "bale"
    PHONE = "phone"      # a call typed in by staff; answered by SMS
    WEB = "web"          # the citizen web page; answered by SMS
    OPEN311 = "open311"  # the municipality's website and apps; answered by SMS


# Requests that come in by phone, the web page or Open311 carry the citizen's phone number: they are
# answered, and followed up, by SMS. A messenger's are answered on the messenger.
CONTACT_CHANNEL: dict[str, str] = {Channel.SMS: Channel.SMS, Channel.PHONE: Channel.SMS, Channel.WEB: Channel.SMS,
                                   Channel.OPEN311: Channel.SMS, Channel.BALE: Channel.BALE}


# Each channel as staff read it (the queue, a ticket's page, the reports and exports).
CHANNEL_LABELS: dict[str, str] = {Channel.SMS: "پیامک", Channel.PHONE: "تلفن", Channel.WEB: "وب‌سایت",
                                  Channel.OPEN311: "اپ/Open311", Channel.BALE: "بله"}


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"    # the citizen opted out before it went
    SUPERSEDED = "superseded"    # a newer message about the same ticket went instead


class InboundState(StrEnum):
    RECEIVED = "received"    # stored raw, not yet understood
    PROCESSED = "processed"
    FAILED = "failed"        # reading it failed; kept, shown to staff, retried by the scheduler


class Kind(StrEnum):
    """What an outbound message is; direct answers and automated follow-ups alike."""

    ACK = "ack"
    ACK_DUPLICATE = "ack_duplicate"
    ASK_PLACE = "ask_place"
    ASK_CATEGORY = "ask_category"
    ASK_BOTH = "ask_both"
    ASK_WHAT = "ask_what"
    CLARIFIED = "clarified"
    EMERGENCY = "emergency"
    IDENTITY_REQUIRED = "identity_required"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    OUTSIDE_CITY = "outside_city"
    STATUS = "status"
    STATUS_NO_CODE = "status_no_code"
    STATUS_UNKNOWN = "status_unknown"
    STATUS_NOT_OURS = "status_not_ours"
    STATUS_LIST = "status_list"
    ACK_OPTED_OUT = "ack_opted_out"
    ADDED = "added"                  # a message joined an open ticket: still not fixed, or a detail
    REPEATED = "repeated"            # the same report again: already registered under its code
    OBJECTION_REASON = "objection_reason"
    THANKS = "thanks"
    TOO_MANY = "too_many"
    VERDICT_THANKS = "verdict_thanks"
    VERDICT_OBJECTED = "verdict_objected"
    STAFF_REPLY = "staff_reply"
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DOABLE = "not_doable"
    REOPENED = "reopened"
    NEEDS_INFO = "needs_info"
    REGISTERED = "registered"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    PHONE_LINKED = "phone_linked"          # a messenger user shared their number: thanks
    PHONE_NOT_LINKED = "phone_not_linked"  # the number they shared is not an Iranian mobile
    VERIFICATION_CODE = "verification_code"  # the citizen web page's one-time code (its text is never kept)


class Action(StrEnum):
    """What a ticket event records."""

    OPENED = "opened"
    STATUS = "status"
    REPLY = "reply"
    CORRECTED = "corrected"
    LINKED = "linked"
    MERGED = "merged"  # a duplicate merged into another ticket (the note: the other's code)
    UNLINKED = "unlinked"  # moved to another region: no longer follows (or leads) the reports it was linked to
    ASKED = "asked"
    ANSWERED = "answered"
    VERDICT = "verdict"
    NOTE = "note"
    PHONE_REVEALED = "phone_revealed"
    MESSAGE = "message"          # the citizen wrote again about this ticket
    REFERRED_TO_UNIT = "referred_to_unit"  # the 137 centre referred it to an executive unit
    RETURNED = "returned"        # the unit sent it back to the 137 centre, with a reason
    ASSIGNED = "assigned"        # given to a colleague («ارجاع به همکار»), or taken back
    STAFF_NOTE = "staff_note"    # an internal note: staff only, never sent to the citizen
    SAMPLED = "sampled"          # drawn into the week's audit sample
    REVIEWED = "reviewed"        # the audit's reviewer found it sound, or reopened it


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    UNIT = "unit"                # an executive unit's staff: only the tickets referred to their unit


class Review(StrEnum):
    """An audit sample's outcome."""

    PENDING = "pending"
    SOUND = "sound"
    REOPENED = "reopened"


ACTOR_CITIZEN = "citizen"
ACTOR_SYSTEM = "system"
# The intent recorded for a messenger contact card the sender shared of themselves (no text to read).
SHARED_CONTACT = "shared_contact"
