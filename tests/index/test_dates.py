"""News has dates: a question is asked as of a day; later articles are never used, its time words
name a window, and articles near the day asked about rank first."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant import Article, Assistant, Filters, InvalidRequestError
from index.language.dates import question_window

AS_OF = date(2026, 3, 18)  # a Wednesday


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("What did the mayor say yesterday?", ("2026-03-17", "2026-03-17")),
        ("Who won on Sunday?", ("2026-03-14", "2026-03-16")),
        ("What happened last week in the harbour?", ("2026-03-09", "2026-03-15")),
        ("What did the council decide this month?", ("2026-03-01", "2026-03-18")),
        ("How many flights were cancelled last month?", ("2026-02-01", "2026-02-28")),
        ("Which team won in March 2021?", ("2021-03-01", "2021-03-31")),
        ("What changed in August?", ("2025-08-01", "2025-08-31")),  # the latest August before as-of
        ("Who led the league in 2019?", ("2019-01-01", "2019-12-31")),
        ("What did the bank do this year?", ("2026-01-01", "2026-03-18")),
        ("Who is the governor of the central bank?", None),
        ("What happened in 1,200 homes?", None),
    ],
)
def test_time_words_name_a_window_relative_to_the_day_asked(question: str, window: tuple[str, str] | None) -> None:
    got = question_window(question, AS_OF)
    assert (got and (got[0].isoformat(), got[1].isoformat())) == window


def test_articles_after_the_day_asked_are_never_used() -> None:
    later = Article(text="x", date="2026-03-19")
    undated = Article(text="y")
    assert not Filters(as_of="2026-03-18").allows(later) and Filters(as_of="2026-03-19").allows(later)
    assert Filters(as_of="2026-03-18").allows(undated), "an undated article may be older: kept"


STORIES = {
    "01": "Harbour ferry fares rose by 4 percent, the ferry company said, blaming the price of diesel. "
    "Season tickets for the winter timetable are unchanged.",
    "03": "Ferry passengers will pay 7 percent more from next week after the operator raised fares for the "
    "second time. Union leaders called the increase unfair to shift workers.",
    "06": "The bay ferry operator put up its fares by 12 percent on Monday, its steepest rise in a decade, "
    "as summer tourists crowded the piers.",
}


def fares(month: str) -> Article:
    return Article(
        text=STORIES[month], title=f"Ferry fares go up ({month})", date=f"2026-{month}-10", key=f"fares-{month}"
    )


@pytest.fixture(scope="module")
def dated_bot(tmp_path_factory: pytest.TempPathFactory, seed_bot: Assistant) -> Assistant:
    bot = Assistant.build([], tmp_path_factory.mktemp("dated") / "index", seed_bot.settings)
    bot.add([fares("01"), fares("03"), fares("06")])
    return bot


@pytest.mark.slow
def test_the_day_asked_decides_which_story_answers(dated_bot: Assistant) -> None:
    question = "By how much did ferry fares rise?"
    march = dated_bot.ask(question, as_of="2026-03-20")
    assert march.answered and "7 percent" in march.text and "12 percent" not in march.text
    assert all(c.date <= "2026-03-20" for c in march.citations + march.related)
    june = dated_bot.ask(question, as_of="2026-06-15")
    assert "12 percent" in june.text, "the latest story first when no time is named"
    january = dated_bot.search("By how much did ferry fares rise in January 2026?", k=3, as_of="2026-06-15")
    assert january[0].article.key == "fares-01", "the month the question names ranks first"
    latest = dated_bot.search("By how much did ferry fares rise?", k=3, as_of="2026-06-15")
    assert latest[0].article.key == "fares-06", "with no time named, the latest story ranks first"
    found = dated_bot.search("ferry fares", k=5, as_of="2026-02-01")
    assert [h.article.key for h in found] == ["fares-01"]
    with pytest.raises(InvalidRequestError, match="YYYY-MM-DD"):
        dated_bot.ask(question, as_of="last week")


@pytest.mark.slow
def test_the_cli_asks_as_of_a_day(dated_bot: Assistant, tmp_path: Path) -> None:
    from tests.helpers.cli import cli_in_process

    index = ["--index", str(dated_bot.index.directory)]
    old = cli_in_process("ask", "By how much did ferry fares rise?", *index, "--as-of", "2026-01-31")
    assert old.exit_code == 0 and "4 percent" in old.stdout and "12 percent" not in old.stdout
    bad = cli_in_process("ask", "By how much did ferry fares rise?", *index, "--as-of", "soon")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
