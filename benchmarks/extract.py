"""Text extraction from HTML pages and PDFs, against the plain-text version of the same document.

    .venv/bin/python -m benchmarks.extract                     # every candidate installed
    .venv/bin/python -m benchmarks.extract --only curate       # curate's readers alone
    .venv/bin/python -m benchmarks.extract --show pdf:curate   # print one candidate's text
    .venv/bin/python -m benchmarks.extract --warc-copies 0     # without the web archive part

The Debian New Maintainers' Guide (../shared/data/raw/maint-guide, read-only) is the same book as
11 HTML pages (with the site's navigation), a 63-page PDF (running headers with page numbers,
footnotes, hyphenation) and plain text, the reference. For each candidate (curate's readers and
the libraries it was chosen among), over the whole book:

- recall: share of the reference's words (lower-cased ``\\w+`` tokens, counted with repeats)
  found in the extraction; precision: share of the extraction's words that are in the reference
  (with repeats);
- headings: share of the reference's chapter and section titles that come out as Markdown
  headings (``#`` lines) with the same words, numbering aside;
- boilerplate: lines left that are navigation (HTML: the text of the pages' navigation bars,
  ``Prev``/``Next``/``Home``) or running headers, footers and page numbers (PDF);
- broken: pairs of adjacent words that are one reference word cut in two (hyphenation at a line
  end left in);
- pages/s: wall time, the best of a few passes over the files in one process; pages and MB
  per CPU-second: the same passes in CPU time of the process, which a busy shared machine
  inflates less (two worker processes on two cores read about twice as many).

Then a web archive (WARC, gzipped) of the pages, copied ``--warc-copies`` times: records/s of
warcio and FastWARC iterating it, and curate's reader (warcio + the HTML reader) end to end.

Candidates that are not installed are skipped, with the pip command that installs them. The
licences are printed with the table (none is AGPL; PyMuPDF, AGPL, is deliberately not measured).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import re
import time
from collections import Counter

DATA = Path(os.environ.get("CURATE_SHARED_DATA")
            or Path(__file__).resolve().parents[1].parent / "shared" / "data") / "raw" / "maint-guide"
ORDER = ["index", "start", "first", "modify", "dreq", "dother", "build", "checkit", "update",
         "upload", "advanced"]
_WORD = re.compile(r"\w+")
_REF_HEADING = re.compile(r"^(?:Chapter \d+\.|Appendix [A-Z]\.|(?:\d+|[A-Z])(?:\.\d+)+\.) \S")
_PDF_RUNNING = re.compile(r"(maintainers.? guide\s+([ivxlc]+|\d+\s*/\s*\d+)\s*$)|^\s*(\d{1,3}|"
                          r"[ivxlc]{1,5})\s*$", re.I)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def title_words(text: str) -> tuple[str, ...]:
    """A heading's words without its numbering and "Chapter"/"Appendix"."""
    ws = words(text)
    while ws and (ws[0].isdigit() or ws[0] in ("chapter", "appendix") or
                  re.fullmatch(r"[a-z]", ws[0])):
        ws = ws[1:]
    return tuple(ws)


def reference() -> tuple[Counter, list[tuple[str, ...]], set[str]]:
    text = (DATA / "maint-guide.en.txt").read_text(encoding="utf-8").replace("\u00a0", " ")
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("Chapter 1."))
    heads = [title_words(line) for line in lines[first:] if _REF_HEADING.match(line)]
    ws = words(text)
    return Counter(ws), heads, set(ws)


def measure(text: str, ref: Counter, heads: list, vocab: set, boiler) -> dict:
    got = Counter(words(text))
    common = sum((got & ref).values())
    found = Counter(title_words(line.lstrip("#")) for line in text.split("\n")
                    if re.match(r"#{1,6} ", line))
    recovered = sum(min(found[h], n) for h, n in Counter(heads).items())
    toks = words(text)
    broken = sum(1 for a, b in zip(toks, toks[1:])
                 if a + b in vocab and (a not in vocab or b not in vocab))
    lines, fence = [], None
    for line in text.split("\n"):         # code lines (listings' line numbers) are not boilerplate
        if re.match(r"\s*(```|~~~)", line):
            fence = None if fence else line
        elif line.strip() and not fence:
            lines.append(line)
    return {"recall": common / max(1, sum(ref.values())),
            "precision": common / max(1, sum(got.values())),
            "headings": recovered / max(1, len(heads)),
            "boilerplate": sum(1 for line in lines if boiler(line)), "lines": len(lines),
            "broken": broken}


# --- HTML ---------------------------------------------------------------------------------

def html_files() -> list[Path]:
    return [DATA / "html" / f"{name}.en.html" for name in ORDER]


def nav_texts() -> set[str]:
    import lxml.html

    out = {"prev", "next", "home", "up", "prev next", "prev up next", "prev home next"}
    for f in html_files():
        root = lxml.html.fromstring(f.read_bytes())
        for el in root.xpath("//div[contains(@class,'navheader') or contains(@class,"
                             "'navfooter')]//td | //div[contains(@class,'navheader') or "
                             "contains(@class,'navfooter')]//th"):
            t = " ".join(words(el.text_content()))
            if t:
                out.add(t)
    return out


def html_curate(data: bytes) -> str:
    from curate.io.extract.html import read_html

    return read_html(data, "page.html")[0]


def html_trafilatura(data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data.decode("utf-8"), output_format="markdown",
                               include_tables=True, include_formatting=False,
                               include_links=False, favor_recall=True) or ""


def html_resiliparse(data: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(data.decode("utf-8"), main_content=True,
                              preserve_formatting=True, alt_texts=False)


def html_markdownify(data: bytes) -> str:
    import lxml.html
    from markdownify import markdownify

    body = lxml.html.fromstring(data).find("body")
    return markdownify(lxml.html.tostring(body, encoding="unicode"), heading_style="ATX",
                       strip=["a", "img"])


def html_inscriptis(data: bytes) -> str:
    from inscriptis import get_text

    return get_text(data.decode("utf-8"))


# --- PDF ----------------------------------------------------------------------------------

PDF = DATA / "maint-guide.en.pdf"


def pdf_curate(path: Path) -> str:
    from curate.io.extract.pdf import read_pdf

    return read_pdf(str(path), path.name)[0].text


def pdf_pypdfium2_text(path: Path) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    return "\n".join(pdf[i].get_textpage().get_text_range().replace("\r\n", "\n")
                     for i in range(len(pdf)))


def pdf_pdfplumber(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(p.extract_text() or "" for p in pdf.pages)


def pdf_pypdf(path: Path) -> str:
    import pypdf

    return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages)


CANDIDATES = {
    "html": [("curate", "lxml (+ curate's Markdown)", "BSD-3-Clause", "lxml", html_curate),
             ("trafilatura", "trafilatura 2 (markdown)", "Apache-2.0", "trafilatura lxml_html_clean",
              html_trafilatura),
             ("resiliparse", "resiliparse main_content", "Apache-2.0", "resiliparse",
              html_resiliparse),
             ("markdownify", "markdownify (whole body)", "MIT", "markdownify", html_markdownify),
             ("inscriptis", "inscriptis (whole page)", "Apache-2.0", "inscriptis",
              html_inscriptis)],
    "pdf": [("curate", "pypdfium2 (+ curate's layout)", "BSD-3-Clause/Apache-2.0", "pypdfium2",
             pdf_curate),
            ("pypdfium2", "pypdfium2 text only", "BSD-3-Clause/Apache-2.0", "pypdfium2",
             pdf_pypdfium2_text),
            ("pdfplumber", "pdfplumber extract_text", "MIT", "pdfplumber", pdf_pdfplumber),
            ("pypdf", "pypdf extract_text", "BSD-3-Clause", "pypdf", pdf_pypdf)],
}


def run(kind: str, name: str, fn, passes: int) -> tuple[str, float, float]:
    """The candidate's text, and its best wall and CPU seconds (this process) of ``passes``."""
    wall = cpu = float("inf")
    text = ""
    for _ in range(passes):
        t0, c0 = time.perf_counter(), time.process_time()
        if kind == "html":
            text = "\n\n".join(fn(f.read_bytes()) for f in html_files())
        else:
            text = fn(PDF)
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return text, wall, cpu


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated candidate names")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--show", help="KIND:NAME: print that candidate's text and stop")
    ap.add_argument("--warc-copies", type=int, default=10,
                    help="copies of the HTML pages in the web archive measured (0: none)")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"no {DATA}: this benchmark reads the shared maint-guide documents")
    ref, heads, vocab = reference()
    navs = nav_texts()
    boiler = {"html": lambda line: " ".join(words(line)) in navs and not line.startswith("#"),
              "pdf": lambda line: bool(_PDF_RUNNING.search(line.strip()))}
    sizes = {"html": (len(html_files()), sum(f.stat().st_size for f in html_files())),
             "pdf": (_pages(), PDF.stat().st_size)}
    only = set(args.only.split(",")) if args.only else None
    print(f"reference: {sum(ref.values())} words, {len(heads)} headings; HTML: {sizes['html'][0]}"
          f" pages, {sizes['html'][1] / 1e6:.2f} MB; PDF: {sizes['pdf'][0]} pages, "
          f"{sizes['pdf'][1] / 1e6:.2f} MB\n")
    for kind, cands in CANDIDATES.items():
        print(f"| {kind} | licence | recall | precision | headings | boilerplate lines | "
              "broken words | pages/s | pages/CPU-s | MB/CPU-s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, label, licence, pip, fn in cands:
            if only and name not in only:
                continue
            if args.show and args.show != f"{kind}:{name}":
                continue
            try:
                text, seconds, cpu = run(kind, name, fn, 1 if args.show else args.passes)
            except ImportError as exc:
                print(f"| {label} | {licence} | not installed ({exc.name}): pip install {pip} "
                      "| | | | | | | |")
                continue
            if args.show:
                print(text)
                return
            m = measure(text, ref, heads, vocab, boiler[kind])
            pages, size = sizes[kind]
            print(f"| {label} | {licence} | {m['recall']:.3f} | {m['precision']:.3f} | "
                  f"{m['headings']:.0%} | {m['boilerplate']} of {m['lines']} | {m['broken']} | "
                  f"{pages / seconds:.0f} | {pages / cpu:.0f} | {size / 1e6 / cpu:.2f} |")
        print()
    if args.warc_copies and not args.show and not only:
        warc_table(args.warc_copies, args.passes)


def warc_table(copies: int, passes: int) -> None:
    """Reading a web archive of the HTML pages (``copies`` times each, gzipped): records/s
    of warcio and FastWARC iterating it (bodies read), and curate's whole reader."""
    import tempfile

    pages = [(f"https://example.org/{i}/{f.name}", f.read_bytes()) for i in range(copies)
             for f in html_files()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pages.warc.gz"
        _write_warc(path, pages)
        size = path.stat().st_size

        def with_warcio() -> int:
            from warcio.archiveiterator import ArchiveIterator

            with open(path, "rb") as f:
                return sum(len(r.content_stream().read()) > 0 for r in ArchiveIterator(f)
                           if r.rec_type == "response")

        def with_fastwarc() -> int:
            from fastwarc.warc import ArchiveIterator, WarcRecordType

            with open(path, "rb") as f:
                return sum(len(r.reader.read()) > 0 for r in ArchiveIterator(
                    f, record_types=WarcRecordType.response))

        def with_curate() -> int:
            from curate.io.extract import read_documents

            return sum(d.error is None for d in read_documents(path))

        print(f"| web archive ({len(pages)} pages, {size / 1e6:.1f} MB gzipped) | licence | "
              "pages | pages/s | pages/CPU-s |")
        print("|---|---|---:|---:|---:|")
        for label, licence, fn in (("warcio (records only)", "Apache-2.0", with_warcio),
                                   ("FastWARC (records only)", "Apache-2.0", with_fastwarc),
                                   ("curate: warcio + HTML to Markdown", "Apache-2.0",
                                    with_curate)):
            wall = cpu = float("inf")
            try:
                for _ in range(passes):
                    t0, c0 = time.perf_counter(), time.process_time()
                    n = fn()
                    wall = min(wall, time.perf_counter() - t0)
                    cpu = min(cpu, time.process_time() - c0)
            except ImportError as exc:
                print(f"| {label} | {licence} | not installed ({exc.name}) | | |")
                continue
            print(f"| {label} | {licence} | {n} | {n / wall:.0f} | {n / cpu:.0f} |")
        print()


def _write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, body in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response",
                                                          payload=io.BytesIO(body),
                                                          http_headers=headers))


def _pages() -> int:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return 63
    return len(pdfium.PdfDocument(str(PDF)))


if __name__ == "__main__":
    main()
