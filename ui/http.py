"""HTTP API over the same Assistant: POST /ask returns the Answer contract; /v1 speaks OpenAI (ui/openai_api.py);
tokens, conversations and export in ui/accounts_api.py; alerts in ui/alerts_api.py; who may call what in
ui/api_deps.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field, model_validator

from rag.types import Filters
from ui import accounts_api, alerts_api, openai_api
from ui.api_deps import Editor, Reader, asker, assistant, install

# The docs routes are in accounts_api: once tokens exist they need one, like everything but /health.
app = FastAPI(title="Newsdesk", description="Cited answers from your news articles.", docs_url=None,
              redoc_url=None, openapi_url=None)
install(app)
app.include_router(openai_api.router)
app.include_router(accounts_api.router)
app.include_router(alerts_api.router)

__all__ = ["app", "assistant"]


class AskRequest(BaseModel):
    question: str = Field(min_length=1, description="At most NEWSDESK_API__MAX_QUESTION_CHARS characters.")
    k: int | None = Field(None, gt=0, le=20)
    as_of: date | None = Field(None, description="Ask as of this day (YYYY-MM-DD): its week counts as recent.")
    since: date | None = Field(None, description="Only articles published on or after this day (hard filter).")
    until: date | None = Field(None, description="Only articles published on or before this day (hard filter).")
    outlets: list[str] = Field(default_factory=list, max_length=50, description="Only articles of these outlets.")
    conversation_id: str | None = Field(None, max_length=100, description="One of your conversations: its turns "
                                        "are the history for follow-ups, and this answer is saved to it.")
    timeline: bool = Field(False, description="Answer with the story's dated events (questions that ask how "
                                              "something developed get one anyway).")
    choices: list[str] = Field(default_factory=list, max_length=10, description="Answers to choose from (a quiz): "
                               "the model picks one, the answer cites the passage that names it.")


class ArticleIn(BaseModel):
    text: str | None = Field(None, min_length=1, description="The article; leave out to fetch `url` instead.")
    title: str | None = None
    url: str | None = Field(None, description="With `text`: the article's URL. Alone: the page (or PDF) to fetch.")
    published: str | None = None
    outlet: str | None = None

    @model_validator(mode="after")
    def _text_or_url(self) -> ArticleIn:
        if self.text is None and not self.url:
            raise ValueError("give the article's `text`, or a `url` to fetch it from")
        return self


@app.get("/health")
def health() -> dict[str, Any]:
    return {"ok": True, "articles": len(assistant().articles())}


@app.post("/ask")
def ask(req: AskRequest, request: Request, caller: Reader) -> dict[str, Any]:
    # A filter that cannot be met is a bad request body (422), as a bad date is (ui/api_deps.py maps the kinds).
    answer = asker(request, caller).ask(req.question, conversation_id=req.conversation_id, k=req.k,
                                        as_of=req.as_of, filters=Filters(req.since, req.until, tuple(req.outlets)),
                                        timeline=req.timeline, choices=req.choices).answer()
    if req.conversation_id is None:
        return answer.to_dict()
    return {**answer.to_dict(), "conversation_id": req.conversation_id}


@app.get("/articles")
def list_articles(_: Reader) -> list[dict[str, Any]]:
    return [r.to_dict() for r in assistant().articles()]


@app.post("/articles")
def add_article(body: ArticleIn, _: Editor) -> dict[str, Any]:
    meta = body.model_dump(exclude={"text"}, exclude_none=True)
    if body.text is None:
        # Fetched under NEWSDESK_FETCH__* rules; a refusal is a rejected outcome (400, the rule in `detail`).
        report = assistant().add_url(meta.pop("url"), meta)
    else:
        report = assistant().add_text(body.text, meta, label="api")
    if report.rejected:
        raise HTTPException(status_code=400, detail=report.rejected[0].reason)
    return report.to_dict()


@app.delete("/articles/{article_id}")
def remove_article(article_id: str, _: Editor) -> dict[str, Any]:
    record = assistant().remove_article(article_id)
    return {"removed": record.article.article_id}
