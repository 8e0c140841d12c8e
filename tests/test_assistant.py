"""The assistant end to end in-process, with the real embedding model and real FAISS."""

import dataclasses
import re
from pathlib import Path

import pytest

from assistant import NOT_IN_ARTICLES, Assistant, IndexMismatchError, Settings
from assistant.answering.citations import split_claims
from assistant.samples_index import sample_articles_path
from index import Article

pytestmark = pytest.mark.slow
CHANNELS = "various channels since mid-February, particularly in New York"


def assert_grounded(answer) -> None:  # type: ignore[no-untyped-def]
    """Every claim of the answer is cited, and is text of the passage it cites."""
    claims = split_claims(answer.text, len(answer.citations))
    assert claims
    for claim, markers in claims:
        assert markers, f"uncited claim: {claim!r}"
        assert any(claim in answer.citation(m).passage for m in markers), claim
    for c in answer.citations:
        for start, end in c.passage_sentences:
            assert c.passage[start:end] in answer.text


def test_channels_question_cites_the_new_york_passage(seed_bot: Assistant, seed_path: Path) -> None:
    answer = seed_bot.ask("What channels did the US use?")
    assert answer.answered
    cited = [c for c in answer.citations if CHANNELS in c.passage]
    assert cited, [c.passage for c in answer.citations]
    assert CHANNELS in answer.text
    article = seed_bot.index.article(cited[0].article_id)
    assert article is not None and article.text[cited[0].start : cited[0].end] == cited[0].passage
    assert cited[0].title == seed_path.read_text(encoding="utf-8").splitlines()[0].strip()
    assert_grounded(answer)


@pytest.mark.parametrize("question", ["Who won the 2022 World Cup?", "What is a good recipe for pancakes?"])
def test_unanswerable_questions_get_the_shared_phrase_and_nearest_passages(seed_bot: Assistant, question: str) -> None:
    answer = seed_bot.ask(question)
    assert not answer.answered and answer.text == NOT_IN_ARTICLES
    assert answer.citations == [] and answer.related


def test_a_continued_quote_brings_its_speaker_along(seed_bot: Assistant) -> None:
    answer = seed_bot.ask("Did Pyongyang respond to the contact attempts?")
    assert "he added" in answer.text
    added = answer.text.index("“To date, we have not received any response from Pyongyang,” he added.")
    speaker = answer.text.find("a senior US official said")
    assert 0 <= speaker < added, answer.text
    assert_grounded(answer)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How much will the Mill Street bike lanes cost?", "3.2 million dollars"),
        ("How many customers had their data stolen at Brightcart?", "two million customers"),
        ("Who proposed the Mill Street bike lane plan?", "Dana Okafor"),
        ("What channels did the US use to reach North Korea?", "New York"),
    ],
)
def test_sample_corpus_answers_are_grounded(sample_bot: Assistant, question: str, expected: str) -> None:
    bot = sample_bot
    answer = bot.ask(question)
    assert answer.answered and expected in answer.text, answer.text
    assert_grounded(answer)
    assert answer.timings["total_ms"] > 0 and answer.query == question


def test_follow_up_questions_use_the_previous_question(sample_bot: Assistant) -> None:
    first = sample_bot.ask("What did the Harbourton council approve?")
    follow = sample_bot.ask("When will construction of it start?", history=[(first.question, first.text)])
    assert follow.query.startswith("What did the Harbourton council approve?")
    assert "September" in follow.text
    assert_grounded(follow)


def test_reingest_is_a_no_op_changed_article_replaces_and_remove_deletes(tmp_path: Path, seed_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Library extends hours\n\nThe city library will open until 9 pm on weekdays from June.")
    bot = Assistant.build([story], tmp_path / "idx")
    first_id = bot.info()
    report = bot.add([story])
    assert report.unchanged and not report.added and bot.info().passages == first_id.passages
    story.write_text("Library extends hours\n\nThe city library will open until 10 pm on weekdays from July.")
    report = bot.add([story])
    assert len(report.replaced) == 1 and bot.info().articles == 1
    reopened = Assistant.open(tmp_path / "idx")
    answer = reopened.ask("Until when will the library open on weekdays?")
    assert "10 pm" in answer.text and "9 pm" not in answer.text
    new_id = report.replaced[0][1]
    assert reopened.remove([new_id]) == [new_id]
    assert Assistant.open(tmp_path / "idx").info().articles == 0


def test_unreadable_file_is_reported_and_the_index_stays_intact(tmp_path: Path, seed_path: Path) -> None:
    bot = Assistant.build([seed_path], tmp_path / "idx")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf at all")
    report = bot.add([tmp_path / "bad.pdf"])
    assert [Path(f.location).name for f in report.failures] == ["bad.pdf"]
    assert Assistant.open(tmp_path / "idx").info().articles == 1


def test_an_index_built_with_other_chunking_is_refused_with_the_difference(tmp_path: Path, seed_path: Path) -> None:
    Assistant.build([seed_path], tmp_path / "idx")
    other = Settings(index={"max_tokens": 120})
    with pytest.raises(IndexMismatchError) as info:
        Assistant.open(tmp_path / "idx", other)
    message = str(info.value)
    assert "chunk" in message and "'max_tokens': 200" in message and "'max_tokens': 120" in message
    assert "assistant ingest --index" in message


def test_bundled_sample_index_is_built_on_first_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    bot = Assistant.open()
    assert bot.info().articles == 8 and Path(bot.info().directory).is_relative_to(tmp_path)
    answer = bot.ask("What channels did the US use?")
    assert answer.answered and "New York" in " ".join(c.passage for c in answer.citations)


OTHER_MODEL = "all-MiniLM-L6-v2-onnx-fp32"


def test_the_default_index_keeps_what_the_user_added_when_settings_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads and an ingest into the default index, then a different embedder: refused with the
    way out, nothing lost (this used to wipe the folder and rebuild it from the samples)."""
    import assistant.core

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    bot = Assistant.open()
    upload = tmp_path / "tmp-upload.txt"
    upload.write_text("Harbour ferry fares rise\n\nThe harbour ferry fare rises to 4 dollars in June, the port said.")
    assert bot.add_upload(upload, "ferry.txt").added
    mine = tmp_path / "mine.txt"
    mine.write_text("Library hours extended\n\nThe central library stays open until 10 pm from Monday, the city said.")
    assert bot.add([mine]).added
    bot.close()
    with pytest.raises(IndexMismatchError) as info:
        Assistant.open(settings=Settings(index={"embed_model": OTHER_MODEL}))
    message = str(info.value)
    assert "2 articles beyond the 8 bundled ones" in message and "--index NEW-FOLDER" in message
    assert "ASSISTANT_INDEX__" in message
    again = Assistant.open()
    assert again.info().articles == 10
    assert "10 pm" in again.ask("How late does the central library stay open?").text
    again.close()
    # a new default model (an upgrade) opens the user's index with the model it was built with
    monkeypatch.setattr(assistant.core, "DEFAULT_MODEL", OTHER_MODEL)
    upgraded = Assistant.open()
    assert upgraded.info().articles == 10 and upgraded.index.embedder.name != OTHER_MODEL
    upgraded.close()


def test_a_sample_only_default_index_is_rebuilt_for_other_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    Assistant.open().close()
    other = Assistant.open(settings=Settings(index={"embed_model": OTHER_MODEL}))
    assert other.info().articles == 8 and other.info().embed_model == OTHER_MODEL


def test_articles_can_be_added_as_objects(tmp_path: Path) -> None:
    bot = Assistant.open(tmp_path / "idx", create=True)
    article = Article(text="The ferry service to the island resumed on Sunday after storms.", title="Ferry back")
    report = bot.add([article, dataclasses.replace(article)])
    assert report.added == [article.id] and report.unchanged == [article.id]
    assert re.search(r"\[1\]", bot.ask("When did the ferry service resume?").text)


def test_the_same_story_ingested_twice_is_told_once(tmp_path: Path) -> None:
    """An HTML page and its PDF print: the same sentences in two articles, one with a line break
    inside a sentence and page furniture around it. The answer says each sentence once."""
    body = (
        "The city council approved a 7 percent pay rise for bus drivers on Tuesday. "
        "The raise takes effect in March and costs 4 million dollars a year. "
        "Drivers had threatened to strike over pay since the autumn."
    )
    furniture = (
        "11/28/26, 11:04 AM Bus drivers get a raise | Metro Herald\n\nHome | News | Sport | Weather | Sign in\n\n"
        "We use cookies to improve your experience. Accept all cookies or manage your settings.\n\n"
    )
    trending = "\n\nTrending: Zoo welcomes twin pandas. Storm closes the coast road. Comments (12)"
    printed = furniture + body.replace("pay rise", "pay\nrise") + trending
    bot = Assistant.open(tmp_path / "idx", create=True)
    bot.add([Article(text=body, title="Bus drivers get a raise", key="page.html")])
    bot.add([Article(text=printed, title="Bus drivers get a raise", key="page.pdf")])
    answer = bot.ask("How big is the pay rise for bus drivers?")
    assert answer.answered and "7 percent" in answer.text
    words = re.sub(r"\s+", " ", re.sub(r"\[\d+\]", "", answer.text))
    assert words.count("approved a 7 percent pay rise") == 1, answer.text


def test_build_on_a_missing_folder_raises_and_leaves_no_index(tmp_path: Path) -> None:
    from assistant import ArticlesNotFoundError

    with pytest.raises(ArticlesNotFoundError, match="no such file or folder: articles/"):
        Assistant.build(["articles/"], tmp_path / "my-index")
    assert not (tmp_path / "my-index").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArticlesNotFoundError, match="no article in"):
        Assistant.build([tmp_path / "empty"], tmp_path / "my-index")
    assert not (tmp_path / "my-index").exists()


def test_a_record_whose_id_is_a_files_path_never_replaces_that_files_article(tmp_path: Path) -> None:
    """Keys of different kinds shared one namespace: a record named like a local path replaced the
    article ingested from that file."""
    from index import article_from_record

    bot = Assistant.open(tmp_path / "idx", create=True)
    note = tmp_path / "ferry.txt"
    note.write_text("Ferry fares rise\n\nThe island ferry fare rises to 4 dollars in June, the port said.")
    [kept] = bot.add([note]).added
    key = bot.index.article(kept).key
    record = article_from_record({"id": key, "title": "Forged", "text": "The ferry is free from now on, forever."})
    report = bot.add([record])
    assert not report.added and not report.replaced
    assert "names an article ingested from a local file" in report.failures[0].reason
    assert bot.index.article(key).id == kept
    note.write_text("Ferry fares rise\n\nThe island ferry fare rises to 5 dollars in June, the port said.")
    assert len(bot.add([note]).replaced) == 1, "the file itself still replaces its article"


def test_opening_an_index_reads_its_manifest_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One read of the live manifest per open (three before: the model check, the settings check, the load)."""
    from index.manifest import Manifest

    Assistant.build([sample_articles_path()], tmp_path / "idx").close()
    reads = []
    original = Manifest.read.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Manifest, "read", classmethod(lambda cls, gen: reads.append(gen) or original(cls, gen)))
    bot = Assistant.open(tmp_path / "idx")
    assert len(reads) == 1, reads
    assert bot.ask("Where will the new stadium be built?").answered


def test_one_ingest_plan_for_the_cli_and_build(tmp_path: Path) -> None:
    """Assistant.ingest is what `assistant ingest` and Assistant.build run: paths checked before an
    index exists, one write, the report returned, a new index that holds nothing removed."""
    from index import ArticlesNotFoundError

    with pytest.raises(ArticlesNotFoundError, match="no such file"):
        Assistant.ingest([tmp_path / "missing.txt"], tmp_path / "a")
    assert not (tmp_path / "a").exists()
    (tmp_path / "empty.txt").write_text("   ")
    with pytest.raises(ArticlesNotFoundError, match="no index was created") as nothing:
        Assistant.ingest([tmp_path / "empty.txt"], tmp_path / "b")
    assert not (tmp_path / "b").exists() and nothing.value.report.failures  # type: ignore[attr-defined]
    bot, report = Assistant.ingest([sample_articles_path()], tmp_path / "c")
    assert len(report.added) == 8 and bot.index.store.generation == "gen-000001"
    bot.close()
