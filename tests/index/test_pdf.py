"""PDFs (made with fpdf2 here) -> articles: text, metadata, mended hyphens and page breaks; scans and
password-protected files rejected with a message that says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.errors import InputError
from index.parse import parse_bytes, parse_file
from index.pdf import pdf_date, pdf_pages_to_text, read_pdf
from tests.site import HARBOUR_V1, encrypted_pdf, lines_pdf, scanned_pdf, text_pdf


def test_text_and_metadata_come_from_the_pdf() -> None:
    article = parse_bytes(text_pdf(), "harbour.pdf")
    assert article.text == HARBOUR_V1
    assert article.meta.title == "Harbour reopens in Kiel"
    assert article.meta.author == "Jana Petersen" and article.meta.published == "2024-03-05"


def test_sidecar_metadata_wins_over_the_pdf_metadata(tmp_path: Path) -> None:
    path = tmp_path / "harbour.pdf"
    path.write_bytes(text_pdf())
    (tmp_path / "harbour.pdf.meta.json").write_text(json.dumps({"title": "Kiel harbour open again",
                                                                  "published": "2024-03-06", "outlet": "dpa"}))
    meta = parse_file(path).meta
    assert (meta.title, meta.published, meta.outlet, meta.author) == ("Kiel harbour open again", "2024-03-06", "dpa",
                                                                      "Jana Petersen")


def test_a_pdf_with_a_txt_name_is_read_as_a_pdf() -> None:
    assert parse_bytes(text_pdf(), "export.txt").text == HARBOUR_V1


def test_hyphens_at_line_ends_are_mended_and_real_compounds_kept() -> None:
    article = parse_bytes(lines_pdf([
        "The harbour in Kiel reopened on Tuesday after the storm, and the even-",
        "ing ferries to Oslo resumed at once. A well-",
        "known captain said the well-known route was safe again.",
    ]), "lines.pdf")
    assert "evening ferries" in article.text and "well-known captain" in article.text
    assert "\ufffe" not in article.text and "even-" not in article.text


def test_running_headers_page_numbers_and_page_breaks() -> None:
    text = pdf_pages_to_text([
        "Kiel Daily - March 2024\r\nThe council met on Monday and agreed that the\r\n1",
        "Kiel Daily - March 2024\r\nharbour would reopen. Ferries ran again.\r\n2",
        "Kiel Daily - March 2024\r\nA new paragraph starts on this page.\r\nPage 3 of 3",
    ])
    assert text == ("The council met on Monday and agreed that the harbour would reopen. Ferries ran again.\n\n"
                    "A new paragraph starts on this page.")


def test_many_pages_with_running_header() -> None:
    article = parse_bytes(text_pdf(pages=4, header="Kiel Daily - March 2024"), "long.pdf")
    assert "Kiel Daily" not in article.text
    assert article.text.count("The harbour in Kiel reopened") == 4
    assert "On Thursday the cranes moved." in article.text


def test_scanned_pdf_is_rejected_with_what_to_do() -> None:
    with pytest.raises(InputError, match=r"scan.pdf: has no text layer .*run OCR on it first"):
        parse_bytes(scanned_pdf(), "scan.pdf")


def test_password_protected_pdf_is_rejected() -> None:
    with pytest.raises(InputError, match="locked.pdf: is a password-protected PDF"):
        parse_bytes(encrypted_pdf(), "locked.pdf")


def test_a_pdf_with_only_an_owner_password_opens() -> None:
    # Printing/copying restrictions without a password to open: every viewer shows it, so do we.
    assert parse_bytes(encrypted_pdf(user_password=""), "restricted.pdf").text == HARBOUR_V1


def test_damaged_pdf_is_rejected() -> None:
    with pytest.raises(InputError, match="broken.pdf: is not a readable PDF"):
        parse_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 10, "broken.pdf")


def test_pdf_text_over_the_limit_is_rejected() -> None:
    # A small file can hold much text (compressed streams): the limit applies to the text as it is read.
    with pytest.raises(InputError, match=r"big.pdf: holds over .*NEWSDESK_INDEX__MAX_FILE_BYTES"):
        read_pdf(text_pdf(pages=3), "big.pdf", max_chars=300)


def test_junk_titles_fall_back_to_the_first_line() -> None:
    article = parse_bytes(text_pdf(title="Microsoft Word - draft3.docx"), "x.pdf")
    assert article.meta.title.startswith("The harbour in Kiel reopened")


@pytest.mark.parametrize(("raw", "day"), [("D:20240305120000Z", "2024-03-05"), ("D:20240305", "2024-03-05"),
                                          ("20241301", None), ("", None), ("D:2024", None)])
def test_pdf_dates(raw: str, day: str | None) -> None:
    assert pdf_date(raw) == day
