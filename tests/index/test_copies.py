"""Near-identical articles are kept once, with every source listed (index/copies.py): one wire
story from two outlets, the same page as HTML and as PDF. Real embeddings, a real index on disk."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from index.copies import resemblance, shingles

# A wire story written for these tests, as two outlets carry it: the second adds its own dateline
# and a closing line, the rest is the same text.
STORY = (
    "The port authority of Varnholm said on Friday that it would spend 48 million euros to deepen the "
    "harbour channel, so that the largest container ships can dock without waiting for the tide.\n\n"
    "Dredging is due to start in April and to last about eighteen months. The authority expects the "
    "number of ships calling at the port to grow by a quarter once the work is finished.\n\n"
    "Fishermen have opposed the plan, saying the dredging will stir up silt and harm the mussel beds "
    "along the northern shore. The authority said it would pay for a study of the beds and move the "
    "dredged sand out to sea.\n\n"
    "Harbour master Ingrid Solberg said the deeper channel was needed to keep the port competitive. "
    '"Without it, the biggest ships will simply go elsewhere," she said.\n\n'
    "The regional government has promised to cover a third of the cost, and the rest will come from "
    "port fees over the next twenty years."
)
OUTLET_B = "VARNHOLM (Coast Wire) - " + STORY + "\n\nCoast Wire will follow the work as it goes."
OTHER = (  # the same place and subject, another story: must stay an article of its own
    "The port authority of Varnholm reported record traffic for the third year in a row on Monday, with "
    "1.9 million containers handled last year.\n\n"
    "Most of the growth came from ships carrying cars and machinery to the east. The authority said "
    "night shifts at the cranes had been added in the summer.\n\n"
    "Unions warned that the dockers were working too many hours and asked for more hiring before the "
    "harbour channel is deepened."
)


def write(folder: Path, name: str, title: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    return path


def test_two_outlets_of_one_wire_story_are_one_article_with_both_sources(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    first = write(folder, "a-port.txt", "Varnholm to deepen harbour channel", STORY)
    second = write(folder, "b-port.txt", "Varnholm harbour to be dredged for big ships", OUTLET_B)
    write(folder, "c-traffic.txt", "Record year for Varnholm port", OTHER)
    assert resemblance(shingles(STORY), shingles(OUTLET_B)) >= 0.8 > resemblance(shingles(STORY), shingles(OTHER))

    bot = Assistant.build([folder], tmp_path / "index")
    info = bot.info()
    assert (info.articles, info.copies) == (2, 1)
    rows = {r.key: r for r in bot.articles().rows}
    assert set(rows) == {str(first), str(folder / "c-traffic.txt")}
    assert rows[str(first)].copies == ("b-port.txt",), "the copy's file is listed with the article"
    assert bot.articles("b-port").total == 1, "the copy's file name finds the article"
    hits = bot.search("How much will Varnholm spend on deepening the harbour channel?", k=5)
    assert sum(h.article.key == str(first) for h in hits) >= 1
    assert not any(h.article.key == str(second) for h in hits), "the copy is not searched twice"
    answer = bot.ask("How much will deepening the Varnholm harbour channel cost?")
    assert answer.short is not None and "48 million" in answer.short.text, answer.text

    # kept on disk, and ingesting the same files again changes nothing
    again = Assistant.open(tmp_path / "index")
    assert again.info().copies == 1
    report = again.add([folder])
    assert (len(report.added), len(report.merged), len(report.unchanged)) == (0, 0, 3)

    # a changed copy file: its old version goes from the article, the new text is checked again
    write(folder, "b-port.txt", "Unions warn of long hours", "Dockers in Varnholm want more hiring. " * 30)
    report = again.add([second])
    assert len(report.replaced) == 1 and again.info().copies == 0 and again.info().articles == 3

    # removing a copy by its path takes only the copy; removing the article keeps its copy indexed
    write(folder, "b-port.txt", "Varnholm harbour to be dredged for big ships", OUTLET_B)
    assert len(again.add([second]).merged) == 1
    assert again.remove([str(second)]) and (again.info().copies, again.info().articles) == (0, 2)
    assert len(again.add([second]).merged) == 1
    assert again.remove([str(first)])
    assert (again.info().articles, again.info().copies) == (2, 0)
    assert again.index.article(str(second)) is not None, "the copy took the removed article's place"
    assert any(h.article.key == str(second) for h in again.search("Varnholm harbour channel dredging", k=3))


def test_the_same_text_from_two_files_lists_both(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    write(folder, "one.txt", "Varnholm to deepen harbour channel", STORY)
    write(folder, "two.txt", "Varnholm to deepen harbour channel", STORY)
    bot = Assistant.build([folder], tmp_path / "index")
    [row] = bot.articles().rows
    assert row.copies == ("two.txt",) and bot.info().copies == 1


def test_copies_are_not_merged_when_turned_off(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    write(folder, "a-port.txt", "Varnholm to deepen harbour channel", STORY)
    write(folder, "b-port.txt", "Varnholm harbour to be dredged for big ships", OUTLET_B)
    bot = Assistant.build([folder], tmp_path / "index", Settings(index={"copy_similarity": 0}))
    assert (bot.info().articles, bot.info().copies) == (2, 0)


@pytest.mark.slow
def test_a_page_and_its_pdf_print_are_one_article(tmp_path: Path) -> None:
    """tests/data/news-page.html and the same page printed to PDF by Chromium."""
    folder = tmp_path / "news"
    folder.mkdir()
    page = shutil.copy(Path(__file__).parents[1] / "data" / "news-page.html", folder / "story.html")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={folder / 'story.pdf'}"]
    subprocess.run([*command, Path(page).as_uri()], capture_output=True, timeout=120, check=False)
    assert (folder / "story.pdf").is_file(), "chromium printed nothing"
    bot = Assistant.build([folder], tmp_path / "index")
    [row] = bot.articles().rows
    assert row.title == "Bus drivers win 7 percent pay rise after strike threat"
    assert row.copies == ("Metro Herald (story.pdf)",)


def test_a_story_republished_years_later_stays_an_article_of_its_own(tmp_path: Path) -> None:
    """A question asked as of a day must find the version of that day."""
    from index import Article

    bot = Assistant.build([], tmp_path / "index")
    old = Article(text=STORY, title="Varnholm to deepen harbour channel", key="2023", date="2023-05-02")
    again = Article(text=STORY, title="From our archive: Varnholm's channel", key="2026", date="2026-05-02")
    same_week = Article(text=OUTLET_B, title="Varnholm harbour to be dredged", key="wire", date="2023-05-03")
    report = bot.add([old, again, same_week])
    assert report.added == [old.id, again.id] and report.merged == [(same_week.id, old.id)]
