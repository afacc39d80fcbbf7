"""Wire copies: found by MinHash-LSH at ingest, grouped in the catalogue, one per story in retrieval, listed as
`also_in` under a citation. Real index, real Chroma (embedded, server) and Postgres, real embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.copies import CopyFinder, Signer, from_bytes, shingles, to_bytes
from index.news_index import NewsIndex
from index.settings import IndexSettings
from index.sources import Source
from index.types import ArticleCopy, ArticleMeta, Chunk
from rag.retrieve import HybridRetriever, one_per_story
from rag.settings import RetrievalSettings
from rag.types import Citation, Hit
from ui.cli import main
from ui.render import answer_to_text

STORY = ("Floodwaters forced the evacuation of about 4,000 residents from low-lying parts of Dresden on Sunday "
         "after the Elbe rose above eight metres for the first time since 2013. Firefighters used boats to reach "
         "elderly people in the old town, and the city opened three schools as emergency shelters. The regional "
         "government said the river was expected to peak on Monday evening at around eight and a half metres. "
         "Rail services between Dresden and Prague were suspended because water covered the tracks near the "
         "border. Farmers upstream reported large losses of maize that had not yet been harvested. The German "
         "weather service warned that more rain was likely in the Ore Mountains on Tuesday. Mayor Dirk Hilbert "
         "asked residents to stay away from the riverbanks and to follow the instructions of rescue workers.")
COPY_B = ("DRESDEN, Germany (AP) — " + STORY.replace("about 4,000", "roughly 4,000")
          + "\n\nThe Associated Press contributed to this report.")
COPY_C = STORY.rsplit(" Mayor Dirk Hilbert", 1)[0].replace("metres", "meters")
# Same flood, another story: what a near-miss looks like.
NEAR_MISS = ("The Elbe flood that forced thousands out of their homes in Dresden this week has revived a debate "
             "about the city's flood defences, which were last upgraded after 2013. Engineers said the mobile "
             "walls in the old town held, but that several dykes upstream were weakened. Insurers estimate the "
             "damage at several hundred million euros, and farmers have asked the regional government for aid "
             "after losing maize that had not yet been harvested. The city council will meet on Thursday.")
COPIES = [(STORY, "Reuters", "2023-10-01", "https://reuters.example/elbe"),
          (COPY_B, "The Denver Post", "2023-10-02", "https://denverpost.example/elbe"),
          (COPY_C, "The Age", "2023-10-03", "https://theage.example/elbe")]


def sources(items: list[tuple[str, str, str, str]]) -> list[Source]:
    return [Source(label=outlet, text=text, meta={"title": "Elbe floods Dresden", "outlet": outlet,
                                                  "published": day, "url": url})
            for text, outlet, day, url in items]


def copy_of(index: NewsIndex) -> dict[str, str | None]:
    """outlet -> the outlet of its group's first copy (None: none)."""
    records = index.articles()
    outlet = {r.article.article_id: r.article.meta.outlet for r in records}
    return {r.article.meta.outlet: outlet[r.copy_of] if r.copy_of else None for r in records}


# --- the finder -------------------------------------------------------------------------------
def test_shingles_ignore_case_punctuation_and_spacing() -> None:
    assert shingles("The  river ROSE, on Sunday!", 3) == shingles("the river rose on sunday", 3)
    assert shingles("Two words", 3) == {b"two words"} and shingles("", 3) == set()


def test_a_lightly_edited_copy_matches_and_a_near_miss_does_not() -> None:
    finder = CopyFinder(0.5)
    finder.add("story", finder.signer.sign(STORY))
    finder.add("near", finder.signer.sign(NEAR_MISS))
    for copy in (COPY_B, COPY_C):
        found = finder.match(finder.signer.sign(copy))
        assert found is not None and found[0] == "story" and found[1] >= 0.5
    assert finder.match(finder.signer.sign(NEAR_MISS), exclude=["near"]) is None
    finder.discard(["story"])
    assert finder.match(finder.signer.sign(COPY_B)) is None and len(finder) == 1


def test_a_stored_signature_is_the_same_signature_in_another_process() -> None:
    signature = Signer().sign(STORY)
    again = from_bytes(to_bytes(signature))
    assert len(to_bytes(signature)) == 512 and again.jaccard(Signer().sign(STORY)) == 1.0


def test_one_per_story_keeps_the_best_ranked_copy() -> None:
    ranked = [("b:0", 0.9), ("a:0", 0.8), ("x:0", 0.7), ("b:1", 0.6), ("c:0", 0.5), ("y:0", 0.4)]
    heads = {"b": "a", "c": "a"}
    assert one_per_story(ranked, heads, 10) == [("b:0", 0.9), ("x:0", 0.7), ("b:1", 0.6), ("y:0", 0.4)]
    assert one_per_story(ranked, heads, 2) == [("b:0", 0.9), ("x:0", 0.7)]


def test_a_citation_carries_the_other_copies() -> None:
    hit = Hit(Chunk("a:0", "a", 0, 0, 5, "Flood"), ArticleMeta(title="Elbe", outlet="Reuters"), 1.0, "fused",
              also_in=(ArticleCopy("b", "The Age", "https://theage.example/elbe", "2023-10-03"),))
    c = Citation(1, hit, 0, 5, "Flood", True)
    assert c.to_dict()["also_in"] == [{"outlet": "The Age", "url": "https://theage.example/elbe",
                                       "published": "2023-10-03"}]
    assert Citation.from_dict(c.to_dict()).also_in[0].outlet == "The Age"
    from rag.types import Answer
    from ui.export import answer_markdown

    exported = answer_markdown(Answer("q", "q", "A flood [1].", False, "extractive", citations=(c,)))
    assert "Also in: The Age, 2023-10-03 <https://theage.example/elbe>" in exported


# --- ingest, catalogue, retrieval -------------------------------------------------------------
@pytest.fixture
def index(index_settings: IndexSettings) -> NewsIndex:
    return NewsIndex(index_settings)


def test_copies_are_grouped_retrieved_once_and_regrouped_when_the_first_goes(index: NewsIndex) -> None:
    report = index.ingest([*sources(COPIES), *sources([(NEAR_MISS, "Der Spiegel", "2023-10-04",
                                                        "https://spiegel.example/elbe")])])
    assert report.count("added") == 4
    assert copy_of(index) == {"Reuters": None, "The Denver Post": "Reuters", "The Age": "Reuters",
                              "Der Spiegel": None}

    # Re-ingesting changes nothing, in this process and in a new one (signatures come from the catalogue).
    before = {r.article.article_id: r.copy_of for r in index.articles()}
    again = NewsIndex(index.settings)
    assert again.ingest(sources(COPIES)).count("unchanged") == 3
    assert {r.article.article_id: r.copy_of for r in again.articles()} == before
    fourth = STORY.replace("on Sunday", "on Sunday, officials said,")
    again.ingest(sources([(fourth, "The Guardian", "2023-10-05", "https://guardian.example/elbe")]))
    assert copy_of(again)["The Guardian"] == "Reuters"

    hits = HybridRetriever(again, RetrievalSettings()).retrieve("How many residents left Dresden in the Elbe flood?",
                                                                k=4).hits
    outlets = [h.meta.outlet for h in hits]
    grouped = {"Reuters", "The Denver Post", "The Age", "The Guardian"}
    assert len(grouped & set(outlets)) == 1 and "Der Spiegel" in outlets, outlets
    for hit in (h for h in hits if h.meta.outlet in grouped):  # one copy (perhaps two of its passages)
        assert {c.outlet for c in hit.also_in} == grouped - {hit.meta.outlet}
        assert all(c.url and c.published for c in hit.also_in)

    # Removing the first copy makes the next-oldest the first; the others follow it.
    first = next(r for r in again.articles() if r.article.meta.outlet == "Reuters").article.article_id
    again.remove(first)
    assert copy_of(again) == {"The Denver Post": None, "The Age": "The Denver Post",
                              "The Guardian": "The Denver Post", "Der Spiegel": None}
    assert copy_of(NewsIndex(index.settings)) == copy_of(again)


def test_a_new_version_of_a_url_is_not_a_copy_of_the_one_it_replaces(index: NewsIndex) -> None:
    index.ingest(sources(COPIES))
    updated = STORY.replace("about 4,000", "about 5,000")
    report = index.ingest(sources([(updated, "Reuters", "2023-10-01", "https://reuters.example/elbe")]))
    assert report.count("replaced") == 1
    # The update is the newest copy, so the next-oldest copy now comes first.
    assert copy_of(index) == {"The Denver Post": None, "The Age": "The Denver Post", "Reuters": "The Denver Post"}


def test_grouping_off_groups_nothing(isolated_env: Path) -> None:
    index = NewsIndex(IndexSettings(home=isolated_env, group_copies=False))
    index.ingest(sources(COPIES))
    assert set(copy_of(index).values()) == {None}


def test_cli_list_json_and_ask_text_show_copies(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    for n, (text, outlet, day, url) in enumerate(COPIES):
        (folder / f"{n}.md").write_text(f"---\ntitle: Elbe floods Dresden\noutlet: {outlet}\npublished: {day}\n"
                                        f"url: {url}\n---\n{text}\n", encoding="utf-8")
    assert main(["ingest", str(folder)]) == 0
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    rows = {r["outlet"]: r for r in json.loads(capsys.readouterr().out)}
    first = rows["Reuters"]["article_id"]
    assert rows["Reuters"]["copy_of"] is None
    assert rows["The Denver Post"]["copy_of"] == rows["The Age"]["copy_of"] == first
    assert main(["ask", "How many residents left Dresden?", "--json", "--backend", "extractive"]) == 0
    answer = json.loads(capsys.readouterr().out)
    cited = {c["outlet"] for c in answer["citations"]}
    assert len(cited) == 1, answer["citations"]
    (also,) = {tuple(sorted(a["outlet"] for a in c["also_in"])) for c in answer["citations"]}
    assert set(also) == {"Reuters", "The Denver Post", "The Age"} - cited


def test_answer_text_lists_the_other_copies_under_the_source() -> None:
    from rag.types import Answer

    hit = Hit(Chunk("a:0", "a", 0, 5, 10, "Flood"), ArticleMeta(title="Elbe", outlet="Reuters",
                                                                 published="2023-10-01"), 1.0, "fused",
              also_in=(ArticleCopy("b", "The Age", None, "2023-10-03"), ArticleCopy("c", "AP", None, None)))
    answer = Answer("q", "q", "Flood [1].", False, "extractive", (Citation(1, hit, 5, 10, "Flood", True),),
                    hits=(hit,))
    lines = answer_to_text(answer).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  [1] Elbe"))
    assert "also in: The Age (2023-10-03), AP" in "\n".join(lines[at:at + 4])


def test_doctor_finds_and_repairs_copies_whose_first_copy_is_gone(isolated_env: Path) -> None:
    """A first copy deleted behind the catalogue's back (a hand-made SQL fix, an old restore): doctor says so and
    --repair makes the next-oldest copy the group's first."""
    from sqlalchemy import text

    from index.doctor import check_index
    from index.settings import IndexSettings

    index = NewsIndex(IndexSettings(home=isolated_env))
    index.ingest(sources(COPIES))
    first = next(r for r in index.articles() if r.copy_of is None).article.article_id
    with index.catalogue.transaction() as db:  # the row goes, the copies keep pointing at it
        db.execute(text("DELETE FROM chunks WHERE article_id = :a"), {"a": first})
        db.execute(text("DELETE FROM articles WHERE article_id = :a"), {"a": first})
    index.store.delete([cid for cid, aid in index.store.ids_by_article().items() if aid == first])
    report = check_index(index)
    assert [p.kind for p in report.problems] == ["copy_of_missing"] and not report.ok, report
    repaired = check_index(index, repair=True)
    assert repaired.ok and repaired.problems[0].repaired
    assert copy_of(index) == {"The Denver Post": None, "The Age": "The Denver Post"}
    assert check_index(index).ok
