"""HTTP routes for the caller's own alerts (ui/alerts.py): editors save questions, every caller lists, checks and
sees the news of their own; another user's alert is a 404, exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ui.admission import check_question
from ui.alerts import alert_dict, check_alert, unread_counts
from ui.api_deps import Editor, Reader, assistant, charge_answer, settings

router = APIRouter()


class AlertIn(BaseModel):
    question: str = Field(min_length=1, description="At most NEWSDESK_API__MAX_QUESTION_CHARS characters.")


@router.get("/alerts")
def list_alerts(caller: Reader) -> list[dict[str, Any]]:
    """Your alerts, oldest first; `unread`: articles added since the alert's last check."""
    index = assistant().index
    alerts = index.alerts.list(caller.name)
    unread = unread_counts(index, alerts)
    return [alert_dict(a, unread[a.alert_id]) for a in alerts]


@router.post("/alerts")
def add_alert(body: AlertIn, caller: Editor) -> dict[str, Any]:
    """Save a question; its news starts with the articles added from now on."""
    check_question(body.question, settings().api.max_question_chars)
    return alert_dict(assistant().index.alerts.add(caller.name, body.question), 0)


@router.delete("/alerts/{alert_id}")
def remove_alert(alert_id: int, caller: Editor) -> dict[str, Any]:
    return {"deleted": assistant().index.alerts.remove(alert_id, caller.name).alert_id}


@router.get("/alerts/{alert_id}/news")
def alert_news(alert_id: int, request: Request, caller: Reader) -> dict[str, Any]:
    """What the articles added since the alert's last check bring to its answer, cited; marks it read. Counts as
    an answer against the caller's rate (NEWSDESK_API__ANSWERS_PER_MINUTE)."""
    alert = assistant().index.alerts.get(alert_id, caller.name)  # 404 before any charge
    charge_answer(request, caller, settings())
    return check_alert(assistant(), alert).to_dict()
