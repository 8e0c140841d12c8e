"""UI handlers, without a server: escaping, highlighting, history, uploads."""

from pathlib import Path

import pytest

from assistant import NOT_IN_ARTICLES, Answer, Assistant, Citation
from ui.app import add_files
from ui.chat import LiveChats
from ui.render import render_sources


def test_sources_escape_article_text_and_mark_the_supporting_sentence() -> None:
    passage = 'Intro <script>alert("x")</script>. The answer is here. Outro.'
    start = passage.index("The answer")
    c = Citation(
        marker=1,
        passage_id=0,
        article_id="a",
        passage=passage,
        start=100,
        end=100 + len(passage),
        sentences=[(100 + start, 100 + start + len("The answer is here."))],
        score=0.5,
        title="<b>Title</b>",
        source="Wire",
        date="2024-01-01",
        url="javascript:alert(1)",
    )
    page = render_sources(Answer(question="q", text="The answer is here. [1]", answered=True, citations=[c]))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Title&lt;/b&gt;" in page
    assert "<mark>The answer is here.</mark>" in page
    assert "javascript:" not in page, "only http(s) links are shown"


def test_refusal_shows_nearest_passages() -> None:
    c = Citation(marker=1, passage_id=0, article_id="a", passage="Nearby text.", start=0, end=12, score=0.1)
    page = render_sources(Answer(question="q", text=NOT_IN_ARTICLES, answered=False, related=[c]))
    assert "Nearest passages" in page and "Nearby text." in page


@pytest.mark.slow
def test_chat_and_upload_handlers(tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    bot = Assistant.build([seed_path], tmp_path / "idx")
    *_, view = LiveChats(bot).ask("", "What channels did the US use?")
    assert view.messages[0]["content"] == "What channels did the US use\\?" and len(view.conversation_id) == 16
    assert "New York" in view.messages[1]["content"] and "<mark>" in (view.sources or "")
    (tmp_path / "uploads" / "a").mkdir(parents=True)
    good = tmp_path / "uploads" / "a" / "museum.txt"
    good.write_text("Museum reopens\n\nThe city museum reopened on Saturday after a two-year renovation.")
    bad = tmp_path / "uploads" / "a" / "broken.pdf"
    bad.write_bytes(b"garbage")
    outside = tmp_path / "private-notes.md"
    outside.write_text("Vault\n\nThe backup vault passphrase is plum-anchor-42.")
    report = add_files(bot, [str(good), str(bad), str(outside)])
    assert "✓ museum\\.txt: 1 added" in report and "✗ broken\\.pdf" in report
    assert "✗ private\\-notes\\.md: not an uploaded file" in report, "a path the client named is never read"
    assert "holds 2 articles" in report
    museum = [r for r in bot.articles("Museum").rows]
    assert len(museum) == 1 and museum[0].key == museum[0].id, "an upload is keyed by its content"


@pytest.mark.slow
def test_two_different_uploads_of_one_name_are_two_articles(
    tmp_path: Path, seed_bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    bot = Assistant.build([], tmp_path / "idx", seed_bot.settings)
    for folder, text in (("a", "The ferry to the island runs twice a day."), ("b", "The bakery opens at six.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text)
        report = add_files(bot, [str(tmp_path / folder / "notes.txt")])
        assert "1 added, 0 replaced" in report, report
    again = add_files(bot, [str(tmp_path / "a" / "notes.txt")])
    assert "0 added, 0 replaced, 1 already indexed" in again
    assert bot.info().articles == 2


def test_answer_text_is_inert_in_the_chat_and_markers_link_to_their_turns_cards() -> None:
    from assistant import SentenceCheck
    from ui.render import render_answer

    text = "See ![chart](http://127.0.0.1:9/x.png) and <img src=x> or [click](javascript:alert(1))."
    answer = Answer(
        question="q",
        text=text + " [1]",
        answered=True,
        sentences=[
            SentenceCheck(text=text, markers=[1], verified=True),
            SentenceCheck(text="Made up.", verified=False),
        ],
    )
    shown = render_answer(answer, turn=3)
    assert "![" not in shown and "<img" not in shown and "](javascript" not in shown
    assert "](#src-3-1)" in shown and "(not found in the sources)" in shown and "✓" in shown
    assert '<span class="unverified-text">Made up\\.</span>' in shown  # greyed, its words kept


@pytest.mark.slow
def test_a_failing_model_is_reported_in_the_chat(seed_bot: Assistant) -> None:
    from collections.abc import Iterator

    from assistant import ModelBackendError
    from assistant.answering.engines.base import Draft, DraftRequest

    class Down:
        name, model, prompt = "down", "none", "none"

        def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
            yield "The"
            raise ModelBackendError("cannot reach the model endpoint (setting llm.base_url)")

    bot = Assistant(seed_bot.index, seed_bot.settings, Down())
    *_, view = LiveChats(bot).ask("", "What channels did the US use?")
    assert "Could not answer" in view.messages[-1]["content"] and "llm\\.base\\_url" in view.messages[-1]["content"]
    assert bot.conversations.get(view.conversation_id).turns == []  # nothing saved


def test_date_filters_take_days_or_words_and_say_what_they_cannot_read() -> None:
    from ui.app import parse_filters

    week = parse_filters("", "last week", "", "2025-08-20")
    assert week.since == "2025-08-11" and week.until is None and week.as_of == "2025-08-20"
    assert parse_filters("A, B", "2025-01-02", "in March 2021").until == "2021-03-31"
    assert parse_filters("A, B").sources == ("A", "B")
    with pytest.raises(ValueError, match="Since: “soon” is not a date; write YYYY-MM-DD"):
        parse_filters("", "soon")


def test_the_conversation_list_shows_when_each_was_updated(tmp_path: Path) -> None:
    """Two conversations of one title were indistinguishable in the picker."""
    import re
    from types import SimpleNamespace

    from assistant.conversations import ConversationStore
    from ui.chat_handlers import conversation_choices

    store = ConversationStore(tmp_path / "c.sqlite3")
    ids = [store.create("Bike lanes").id, store.create("Bike lanes").id]
    choices = conversation_choices(SimpleNamespace(store=store))  # type: ignore[arg-type]
    assert sorted(i for _, i in choices) == sorted(ids)
    assert all(re.fullmatch(r"Bike lanes · \d{4}-\d\d-\d\d \d\d:\d\d", label) for label, _ in choices)


def test_uploading_several_files_publishes_one_generation(tmp_path: Path) -> None:
    """20 uploaded files published 20 generations (and took the write lock 20 times)."""
    from index.generations import current_generation
    from ui.uploads import upload_folder

    bot = Assistant.open(tmp_path / "idx", create=True)
    folder = upload_folder() / "batch-test"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, town in enumerate(["Ashford", "Brampton", "Carlow"]):
        path = folder / f"town-{n}.txt"
        path.write_text(f"{town} opens a library\\n\\nThe town of {town} opened a new public library on Monday.")
        paths.append(str(path))
    before = current_generation(bot.index.directory)
    report = add_files(bot, paths)
    after = current_generation(bot.index.directory)
    assert report.count("1 added") == 3 and "3 passages indexed" in report, report
    assert before != after and int(after.split("-")[-1]) == int((before or "gen-000000").split("-")[-1]) + 1
