"""HTTP API over the same Assistant: POST /ask returns the Answer contract."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, model_validator

from index.errors import BackendUnavailable, ConfigError, IndexBusy, InputError, NewsdeskError, NotFound
from rag.assistant import Assistant
from rag.settings import Settings
from rag.types import Filters

app = FastAPI(title="Newsdesk", description="Cited answers from your news articles.")

_STATUS = {InputError: 400, NotFound: 404, ConfigError: 500, IndexBusy: 503, BackendUnavailable: 503}


@lru_cache(maxsize=1)
def assistant() -> Assistant:
    return Assistant.from_settings(Settings())


def _fail(e: NewsdeskError) -> HTTPException:
    status = next((code for cls, code in _STATUS.items() if isinstance(e, cls)), 500)
    return HTTPException(status_code=status, detail=str(e))


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    k: int | None = Field(None, gt=0, le=20)
    as_of: date | None = Field(None, description="Ask as of this day (YYYY-MM-DD): its week counts as recent.")
    since: date | None = Field(None, description="Only articles published on or after this day (hard filter).")
    until: date | None = Field(None, description="Only articles published on or before this day (hard filter).")
    outlets: list[str] = Field(default_factory=list, max_length=50, description="Only articles of these outlets.")


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
def ask(req: AskRequest) -> dict[str, Any]:
    a = assistant()
    try:
        filters = a.check_filters(Filters(req.since, req.until, tuple(req.outlets)))
    except InputError as e:  # a filter that cannot be met is a bad request body, as a bad date is
        raise HTTPException(status_code=422, detail=str(e)) from e
    try:
        return a.ask(req.question, k=req.k, as_of=req.as_of, filters=filters).to_dict()
    except NewsdeskError as e:
        raise _fail(e) from e


@app.get("/articles")
def list_articles() -> list[dict[str, Any]]:
    return [r.to_dict() for r in assistant().articles()]


@app.post("/articles")
def add_article(body: ArticleIn) -> dict[str, Any]:
    try:
        meta = body.model_dump(exclude={"text"}, exclude_none=True)
        if body.text is None:
            # Fetched under NEWSDESK_FETCH__* rules; a refusal is a rejected outcome (400, the rule in `detail`).
            report = assistant().add_url(meta.pop("url"), meta)
        else:
            report = assistant().add_text(body.text, meta, label="api")
    except NewsdeskError as e:
        raise _fail(e) from e
    if report.rejected:
        raise HTTPException(status_code=400, detail=report.rejected[0].reason)
    return report.to_dict()


@app.delete("/articles/{article_id}")
def remove_article(article_id: str) -> dict[str, Any]:
    try:
        record = assistant().remove_article(article_id)
    except NewsdeskError as e:
        raise _fail(e) from e
    return {"removed": record.article.article_id}
