import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from index import Article, LoadFailure, article_from_record, load_paths
from index.reading.article_fields import TITLE_CHARS, derived_title
from tests.helpers.pdf import write_pdf

NEWS_HTML = """<!doctype html><html><head><title>Storm cuts power | Coast Gazette</title>
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2024-03-05T08:00:00Z">
<meta property="og:site_name" content="Coast Gazette">
<meta property="og:title" content="Storm cuts power to thousands on the coast">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article><h1>Storm cuts power to thousands on the coast</h1>
<p>A powerful storm swept along the coast on Tuesday, leaving about 18,000 homes without electricity.</p>
<p>Engineers from the grid operator worked through the night to repair damaged lines, a company spokesperson said.</p>
<p>Schools in three towns stayed closed on Wednesday while crews cleared fallen trees from the roads.</p>
</article><footer>Copyright Coast Gazette. All rights reserved.</footer></body></html>"""


def loaded(*paths: Path) -> tuple[list[Article], list[LoadFailure]]:
    items = list(load_paths(paths))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, LoadFailure)]


def test_txt_and_md_take_the_first_line_as_title(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Bridge reopens\n\nThe old bridge reopened on Friday after repairs.\n")
    (tmp_path / "b.md").write_text("# Budget passes\n\nThe budget passed by two votes.")
    articles, failures = loaded(tmp_path / "a.txt", tmp_path / "b.md")
    assert not failures
    assert [a.title for a in articles] == ["Bridge reopens", "Budget passes"]
    assert "reopened on Friday" in articles[0].text
    assert articles[0].key == str((tmp_path / "a.txt").resolve())
    # the headline is the title, not the body's first sentence (answers would start with it)
    assert articles[0].text.startswith("The old bridge") and articles[1].text.startswith("The budget passed")
    (tmp_path / "c.txt").write_text("The council met on Monday.\nIt voted to close the pool.\n")
    (sentence,), _ = loaded(tmp_path / "c.txt")
    assert sentence.title == "The council met on Monday." and sentence.text.startswith("The council met")


def test_html_news_page_gives_main_text_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "storm.html").write_text(NEWS_HTML)
    [article], failures = loaded(tmp_path / "storm.html")
    assert not failures
    assert article.title == "Storm cuts power to thousands on the coast"
    assert article.date.startswith("2024-03-05")
    assert article.authors == ("Jane Roe",)
    assert article.source == "Coast Gazette"
    assert "18,000 homes" in article.text and "fallen trees" in article.text
    assert "Home" not in article.text and "All rights reserved" not in article.text


def test_json_and_jsonl_records_keep_fields_and_extra_metadata(tmp_path: Path) -> None:
    record = {
        "id": "r-1",
        "title": "Port strike ends",
        "text": "Dock workers returned to work on Monday.",
        "date": "2024-01-02",
        "source": "Harbour News",
        "url": "https://example.org/p",
        "section": "business",
    }
    (tmp_path / "one.json").write_text(json.dumps(record))
    (tmp_path / "many.jsonl").write_text(
        json.dumps({"doc_id": "d-7", "title": "Zoo welcomes panda", "body": "A panda arrived at the zoo."})
        + "\n"
        + "{not json\n"
        + json.dumps({"title": "No text here"})
        + "\n"
    )
    articles, failures = loaded(tmp_path / "one.json", tmp_path / "many.jsonl")
    first, second = articles
    assert (first.key, first.source, first.date, first.url) == ("r-1", "Harbour News", "2024-01-02", record["url"])
    assert first.metadata == {"section": "business"}
    assert second.key == "d-7" and second.text == "A panda arrived at the zoo."
    reasons = {f.location.rsplit(":", 1)[-1]: f.reason for f in failures}
    assert reasons["2"].startswith("invalid JSON") and "no article text" in reasons["3"]


def test_gzipped_jsonl_feeds_load(tmp_path: Path) -> None:
    import gzip

    lines = [json.dumps({"id": f"n{i}", "title": f"Item {i}", "text": f"Story {i} text."}) for i in range(3)]
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    (tmp_path / "junk.txt.gz").write_bytes(gzip.compress(b"x"))
    articles, failures = loaded(tmp_path / "feed.jsonl.gz", tmp_path / "junk.txt.gz")
    assert [a.key for a in articles] == ["n0", "n1", "n2"]
    assert [Path(f.location).name for f in failures] == ["junk.txt.gz"]


def test_pdf_text_and_title(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "report.pdf", ["Rail fares to rise in March.", "The increase is 3 percent."], title="Rail fares rise"
    )
    [article], failures = loaded(path)
    assert not failures
    assert article.title == "Rail fares rise"
    assert "Rail fares to rise in March." in article.text and "3 percent" in article.text


def test_broken_files_are_reported_by_name_and_the_rest_still_loads(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good news\n\nThe festival will go ahead.")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 closes".encode("latin-1"))
    (tmp_path / "empty.md").write_text("   \n")
    (tmp_path / "bad.json").write_text('{"title": ')
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    articles, failures = loaded(tmp_path, tmp_path / "notes.docx", tmp_path / "missing.txt")
    assert [a.title for a in articles] == ["Good news"]
    by_name = {Path(f.location).name: f.reason for f in failures}
    assert set(by_name) == {"broken.pdf", "latin1.txt", "empty.md", "bad.json", "notes.docx", "missing.txt"}
    assert "PDF" in by_name["broken.pdf"]
    assert "UTF-8" in by_name["latin1.txt"]
    assert "unsupported file type .docx" in by_name["notes.docx"]
    assert by_name["missing.txt"] == "no such file or folder"


def test_folders_are_read_recursively(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("One\n\nFirst story.")
    (tmp_path / "a" / "b" / "two.md").write_text("Two\n\nSecond story.")
    (tmp_path / "a" / "b" / "ignore.png").write_bytes(b"\x89PNG")
    articles, failures = loaded(tmp_path / "a")
    assert sorted(a.title for a in articles) == ["One", "Two"] and not failures


def test_content_ids_are_stable_and_depend_on_content() -> None:
    a = Article(text="Same text.", title="T", key="x")
    assert a.id == Article(text="Same text.", title="T", key="y").id
    assert a.id != Article(text="Other text.", title="T").id


def test_record_dates_become_iso_so_date_filters_compare_them() -> None:
    from index.reading.article_fields import iso_date

    assert iso_date("2018/03/15") == "2018-03-15"
    assert iso_date("2018.3.5") == "2018-03-05"
    assert iso_date(" 2020-01-02T10:00:00Z ") == "2020-01-02T10:00:00Z"
    assert iso_date("March 3, 2021") == "March 3, 2021", "what it cannot read is kept as given"
    record = {"doc_id": "d1", "title": "T", "text": "Body.", "publish_date": "2022/06/16"}
    assert article_from_record(record).date == "2022-06-16"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "CNN —\n\nThe river flooded the old town on Monday after three days of heavy rain, and hundreds "
            "of families left their homes for the shelters on the hill. More follows.",
            None,
        ),
        (
            "New York CNN Business —\n\nShares of a chip maker fell sharply.\n\nMore.",
            "Shares of a chip maker fell sharply.",
        ),
        (
            "Jane Roe\n\nAssociated Press\n\nThe council approved the budget. It passed 7-2.",
            "The council approved the budget.",
        ),
        ("WASHINGTON – The agency said the rule takes effect in May.", "The agency said the rule takes effect in May."),
        ("Washington | Diplomats tried to reach the other side. In vain.", "Diplomats tried to reach the other side."),
        ("By Staff Writer\n\nMarkets rally again\n\nStocks rose.", "Markets rally again"),
        ("Bridge reopens after repairs\n\nThe bridge reopened.", "Bridge reopens after repairs"),
    ],
)
def test_a_missing_title_comes_from_the_first_real_line_not_a_dateline(text: str, title: str | None) -> None:
    got = derived_title(text)
    if title is None:  # a long first sentence: cut at a word boundary
        assert got.startswith("The river flooded the old town on Monday") and got.endswith("…")
        assert len(got) <= TITLE_CHARS + 1
        assert "—" not in got and "CNN" not in got
    else:
        assert got == title
    record = article_from_record({"text": text})
    assert record.title == got, "records without a title get the same one"


def printed_page(name: str, folder: Path) -> Article:
    """tests/data/``name`` printed to PDF by Chromium (as a reader would), loaded."""
    page = Path(__file__).parents[1] / "data" / name
    pdf = folder / f"{page.stem}.pdf"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}", page.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert pdf.is_file(), "chromium printed nothing"
    [article], failures = loaded(pdf)
    assert not failures
    return article


@pytest.mark.slow
def test_a_news_page_printed_to_pdf_by_a_browser_loads_as_its_story(tmp_path: Path) -> None:
    """tests/data/news-page.html (written for this test: menu, cookie banner, story, trending box,
    comments, footer) printed by Chromium, with its print header and footer on every page."""
    article = printed_page("news-page.html", tmp_path)
    text = article.text
    assert text.startswith("The city council approved a 7 percent pay rise")
    assert text.rstrip().endswith("with weekend journeys growing fastest.")
    for furniture in ("Sign in", "cookies", "Trending", "twin pandas", "Comments", "About time", "All rights", "file:"):
        assert furniture not in text, furniture
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}, \d", text), "the print date stamp is gone"
    assert "\n" not in text.replace("\n\n", ""), "lines are rejoined into paragraphs"
    assert len(text.split("\n\n")) == 9, "one paragraph per paragraph of the page"
    assert article.title == "Bus drivers win 7 percent pay rise after strike threat"
    assert article.source == "Metro Herald" and article.authors == ("Dana Whitfield",)
    assert article.date == "2026-11-20", "from the byline, not the date it was printed"


@pytest.mark.slow
def test_a_page_with_a_sidebar_of_headlines_loads_as_its_story(tmp_path: Path) -> None:
    """A second layout (tests/data/news-page-sidebar.html, written for this test): the story in a left
    column beside a "Most read" / "Trending" column of links on the same lines; the title's "- Site"."""
    article = printed_page("news-page-sidebar.html", tmp_path)
    text = article.text
    assert text.startswith("The ferry between Port Ellery and the island of Skarn began carrying passengers")
    assert text.rstrip().endswith("by the harbour authority from its reserves.")
    for furniture in ("Most read", "Trending", "Lighthouse", "Seal pup", "sourdough", "Log in", "All rights"):
        assert furniture not in text, furniture
    assert len(text.split("\n\n")) == 6 and "\n" not in text.replace("\n\n", "")
    assert (article.title, article.source) == ("Harbour ferry returns after two-year gap", "Coastline Courier")
    assert article.authors == ("Lena Okoro",) and article.date == "2026-10-14"


def test_a_story_set_in_two_columns_keeps_both_and_a_side_box_is_dropped() -> None:
    from index.reading.pdf_text import Line, _main_column

    body = "words of the story " * 6
    left = [Line(0, 700 - 20 * i, 11, body, x=50) for i in range(10)]
    right = [Line(0, 700 - 20 * i, 11, body, x=320) for i in range(10)]
    kept = _main_column(left + right, 612)
    assert kept == left + right  # the second column is read after the first
    box = [Line(0, 700 - 20 * i, 9, "Seal pup rescued", linked=16, x=420) for i in range(5)]
    assert _main_column(left + box, 612) == left
