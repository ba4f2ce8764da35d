"""The durable floor for bench/load.py: a Twilio webhook whose signature is checked and whose raw message is
inserted once (a retry refused by the unique message id) and committed, nothing else; then an empty TwiML.

What any store-first gateway must do per message, so the gateway's rate as a fraction of this one is its
own cost. Configured by FLOOR_DATABASE_URL (its table `floor_message`, made by bench/load.py),
FLOOR_TWILIO_TOKEN and FLOOR_PUBLIC_URL; each gunicorn worker builds its pool on import (no preload).
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

app = Flask(__name__)
ENGINE = create_engine(os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
                       pool_size=5, max_overflow=10)
VALIDATOR = RequestValidator(os.environ["FLOOR_TWILIO_TOKEN"])
PUBLIC_URL = os.environ["FLOOR_PUBLIC_URL"]
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
INSERT = text("INSERT INTO floor_message (message_id, sender, body, raw, received_at) "
              "VALUES (:message_id, :sender, :body, :raw, :received_at) ON CONFLICT (message_id) DO NOTHING")


@app.post("/webhooks/twilio/sms")
def sms() -> Response:
    form = request.form
    if not VALIDATOR.validate(PUBLIC_URL + request.full_path.rstrip("?"), form,
                              request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    with ENGINE.begin() as conn:
        conn.execute(INSERT, dict(message_id=form["MessageSid"], sender=form["From"], body=form.get("Body", ""),
                                  raw=json.dumps(form.to_dict(), ensure_ascii=False),
                                  received_at=datetime.now(UTC).replace(tzinfo=None)))
    return Response(TWIML, mimetype="application/xml")
