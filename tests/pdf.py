"""Reading the PDFs the application draws: their text, and where on the page it lies."""

import io
from dataclasses import dataclass

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """All the text, whitespace folded, as a reader would copy it."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


@dataclass(frozen=True)
class Run:
    """A run of text drawn on a page: its text, left edge and font size, in points."""

    page: int
    text: str
    x: float
    size: float


def text_runs(data: bytes) -> tuple[float, list[Run]]:
    """(page width, every run of text of every page) in points."""
    reader = PdfReader(io.BytesIO(data))
    runs: list[Run] = []
    for number, page in enumerate(reader.pages, start=1):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                # The text matrix placed in user space by the current transformation.
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                runs.append(Run(number, text.strip(), x, size * abs(cm[0])))

        page.extract_text(visitor_text=visit)
    return float(reader.pages[0].mediabox.width), runs
