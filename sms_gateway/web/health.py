"""/healthz for monitoring: is the database reachable, when did the scheduler last run."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from ..models import JobRun

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    gateway = current_app.extensions["sms_gateway"]
    try:
        with gateway.sessions() as session:
            session.execute(text("SELECT 1"))
            runs = dict(session.execute(select(JobRun.name, JobRun.last_run_at)).all())
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    last = runs.get("run_due")
    age = (gateway.clock() - last).total_seconds() if last else None
    return jsonify(status="ok", database="ok", scheduler_last_run=last.isoformat() if last else None,
                   scheduler_age_seconds=round(age) if age is not None else None)
