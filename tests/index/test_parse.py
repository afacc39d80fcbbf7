"""Parsing: encodings, HTML, metadata, and bad input rejected with a message naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import InputError
from index.parse import parse_bytes, parse_file, parse_text
from index.sources import Source

BODY = "Stoltenberg and Biden met on Monday for the first time since the election. " * 3


def test_front_matter_metadata_is_parsed_and_removed_from_text(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("---\ntitle: NATO: a title with a colon\noutlet: dpa\npublished: 2020-11-24\n"
                 "url: https://example.com/a\n---\n" + BODY)
    a = parse_file(f)
    assert a.meta.title == "NATO: a title with a colon"
    assert (a.meta.outlet, a.meta.published, a.meta.url) == ("dpa", "2020-11-24", "https://example.com/a")
    assert a.text.startswith("Stoltenberg") and "---" not in a.text


def test_source_line_becomes_url_and_long_first_line_is_not_the_title() -> None:
    a = parse_text(BODY + "\nSource: https://www.washingtonpost.com/world/x")
    assert a.meta.url == "https://www.washingtonpost.com/world/x"
    assert len(a.meta.title) <= 120


def test_same_text_gives_same_id_whitespace_aside() -> None:
    assert parse_text(BODY).article_id == parse_text("  " + BODY.replace(". ", ".\n")).article_id


def test_cp1252_text_is_decoded() -> None:
    data = ("Caf\u00e9 owners said \u201cprices rose\u201d by 5\u20ac this week in Brussels.").encode("cp1252")
    a = parse_bytes(data, "cafe.txt")
    assert "Café" in a.text and "“prices rose”" in a.text and "€" in a.text


def test_utf16_with_bom_is_decoded() -> None:
    a = parse_bytes(("\ufeff" + BODY).encode("utf-16"), "u16.txt")
    assert a.text.startswith("Stoltenberg")


def test_html_script_is_dropped_and_metadata_kept() -> None:
    html = ("<html><head><title>Summit ends</title><script>alert('x')</script></head><body><article>"
            "<h1>Summit ends</h1><p>" + BODY + "</p><script>document.title='pwned'</script></article></body></html>")
    a = parse_bytes(html.encode(), "page.html")
    assert "alert" not in a.text and "pwned" not in a.text
    assert "Stoltenberg and Biden met" in a.text
    assert a.meta.title == "Summit ends"


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.txt", "empty"),
    (b"   \n\t  \n", "blank.txt", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image.txt", "PNG"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "prog.txt", "ELF"),
    (b"some text\x00with a NUL byte in the middle of it", "nul.txt", "NUL"),
    (b"hello world, this is long enough to index", "notes.docx", "unsupported file type"),
])
def test_bad_input_is_rejected_naming_the_file(data: bytes, name: str, message: str) -> None:
    with pytest.raises(InputError) as e:
        parse_bytes(data, name)
    assert name in str(e.value) and message in str(e.value)


def test_oversized_file_is_rejected_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    f.write_bytes(b"word " * 4_200_000)  # 21 MB
    with pytest.raises(InputError, match="huge.txt.*over the 20 MB limit"):
        parse_file(f)


def test_javascript_urls_are_not_kept() -> None:
    a = parse_text(BODY, {"url": "javascript:alert(1)"})
    assert a.meta.url is None


def test_upload_name_with_path_parts_is_reduced_to_its_base_name() -> None:
    assert parse_bytes(BODY.encode(), "../../etc/passwd.txt").meta.source == "passwd.txt"
    assert Source("../../etc/passwd.txt", data=BODY.encode()).parse(10**6).meta.source == "upload:passwd.txt"
    assert Source("..\x00/.hidden.txt.", data=BODY.encode()).parse(10**6).meta.source == "upload:hidden.txt"


def test_bad_date_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        parse_text(BODY, {"published": "last Tuesday"})
