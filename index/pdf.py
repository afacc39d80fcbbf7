"""PDF bytes -> text and metadata (PDFium through pypdfium2): hyphenation and page breaks mended, running
headers, footers and page numbers dropped; scans and password-protected files rejected."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

from index.errors import InputError

# PDFium is not thread-safe, and the Streamlit app ingests from several sessions' threads at once.
_PDFIUM = threading.Lock()
_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_MIN_TEXT_CHARS = 20
# Titles that PDF tools write by themselves, not the article's headline.
_JUNK_TITLE = re.compile(r"^(untitled|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|odt|rtf|txt|indd|tex))$", re.I)
_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*(/|of)\s*\d{1,4})?\s*$", re.I)
_SENTENCE_END = re.compile(r"[.!?…:;\"'”’)\]]$")
SOFT_HYPHEN = "\ufffe"  # PDFium's mark for a hyphen at the end of a line
_EDGE = 2  # lines at the top and bottom of a page where running headers and footers sit
_RUNNING_MAX_CHARS = 80  # longer lines are text even when they repeat


@dataclass(frozen=True, slots=True)
class PdfText:
    text: str
    title: str = ""
    author: str = ""
    published: str | None = None  # YYYY-MM-DD from the creation date


def read_pdf(data: bytes, name: str, max_chars: int) -> PdfText:
    """The text of a PDF with a text layer, and the title, author and date its metadata holds.

    Raises:
        InputError: damaged, password-protected, more text than max_chars, or no text layer (a scan).
    """
    import pypdfium2 as pdfium  # only when a PDF arrives

    with _PDFIUM:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            if getattr(e, "err_code", None) == _PASSWORD_ERROR:
                raise InputError(f"{name}: is a password-protected PDF; save an unprotected copy (or paste its "
                                 "text) and add that.") from None
            raise InputError(f"{name}: is not a readable PDF ({e}).") from None
        try:
            meta = doc.get_metadata_dict(skip_empty=True)
            pages: list[str] = []
            size = 0
            for i in range(len(doc)):
                page = doc[i]
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
                page.close()
                size += len(text)
                if size > max_chars:
                    raise InputError(f"{name}: holds over {max_chars / 1e6:.0f} MB of text, over the limit "
                                     "(NEWSDESK_INDEX__MAX_FILE_BYTES).")
                pages.append(text)
        finally:
            doc.close()
    text = pdf_pages_to_text(pages)
    if len(text.strip()) < _MIN_TEXT_CHARS:
        raise InputError(f"{name}: has no text layer ({len(pages)} page(s) of images: a scan?); run OCR on it "
                         "first (e.g. `ocrmypdf in.pdf out.pdf`) and add the result.")
    title = " ".join(str(meta.get("Title", "")).split())
    return PdfText(text=text, title="" if _JUNK_TITLE.match(title) else title,
                   author=" ".join(str(meta.get("Author", "")).split()),
                   published=pdf_date(str(meta.get("CreationDate", ""))))


def pdf_date(value: str) -> str | None:
    """'D:20240305120000Z' (the PDF date format) -> '2024-03-05'; None when absent or not a real date."""
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})(\d{2})", value.strip())
    if not m:
        return None
    year, month, day = (int(x) for x in m.groups())
    from datetime import date

    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def pdf_pages_to_text(pages: list[str]) -> str:
    """Pages of raw lines -> paragraphs: running headers/footers and page numbers dropped, lines of a
    paragraph joined, words hyphenated across lines (and pages) mended."""
    split = [[ln.strip() for ln in p.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
             for p in pages]
    running = _running_lines(split)
    text = ""
    for lines in split:
        edge = set(range(_EDGE)) | set(range(len(lines) - _EDGE, len(lines)))
        kept = [ln for i, ln in enumerate(lines)
                if not _PAGE_NUMBER.match(ln) and not (i in edge and _shape(ln) in running)]
        page = _reflow(kept)
        if not page:
            continue
        if not text:
            text = page
        elif text.endswith(("-", SOFT_HYPHEN)) or (not _SENTENCE_END.search(text) and page[:1].islower()):
            # A sentence that runs on to the next page is one paragraph, not two.
            text += page if text.endswith(("-", SOFT_HYPHEN)) else " " + page
        else:
            text += "\n\n" + page
    return _mend_hyphens(text)


def _shape(line: str) -> str:
    # "Kiel Daily – page 3" and "Kiel Daily – page 4" are one running header.
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Short lines (by shape) among the first or last two of most pages: headers and footers, not text."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_shape(ln) for ln in lines[:_EDGE] + lines[-_EDGE:] if len(ln) <= _RUNNING_MAX_CHARS})
    return {shape for shape, n in counts.items() if n >= max(3, len(pages) * 0.6)}


def _reflow(lines: list[str]) -> str:
    """Join the lines of a page into paragraphs. A line ends a paragraph when it is clearly shorter than the
    page's full lines and ends a sentence (or the next line starts like a new one)."""
    if not lines:
        return ""
    full = sorted(len(ln) for ln in lines)[int(len(lines) * 0.8)]
    out = lines[0]
    for prev, line in zip(lines, lines[1:]):
        if prev.endswith(SOFT_HYPHEN) or (prev.endswith("-") and line[:1].islower()):
            out += line  # hyphenated across the line break; _mend_hyphens decides about the hyphen
        elif len(prev) < 0.75 * full and (_SENTENCE_END.search(prev) or not line[:1].islower()):
            out += "\n\n" + line
        else:
            out += " " + line
    return out


def _mend_hyphens(text: str) -> str:
    """'even\\ufffeing' -> 'evening'. PDFium marks every hyphen that ended a line, so a real compound split there
    ('well-known') is marked too: the hyphen is kept when the document writes the same compound elsewhere."""
    compounds = set(re.findall(r"\b\w+-\w+\b", text.lower()))

    def mend(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        return f"{left}-{right}" if f"{left}-{right}".lower() in compounds else left + right

    text = re.sub(r"(\w+)\ufffe(\w+)", mend, text)
    return text.replace(SOFT_HYPHEN, "-")
