"""What keeps questions fast: sentence vectors stored at ingest (a warm ask embeds only the
question), one embedding per question in an evaluation, a cold `ask` that imports no torch,
sentence-transformers, gradio or NLTK and prints nothing on stderr, and an ingest progress total."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.evaluation import TestCase, evaluate, write_testset
from index import count_articles

SAMPLES = Path(__file__).resolve().parents[1] / "assistant" / "samples" / "articles.jsonl"
QUESTION = "What channels did the US use?"


class CountingEmbed:
    """Wraps an embedder's ``embed`` and counts the texts it is given."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self.inner = embedder.embed
        self.texts: list[str] = []

    def __call__(self, texts):  # type: ignore[no-untyped-def]
        self.texts.extend(texts)
        return self.inner(texts)


def count_embeddings(bot: Assistant, monkeypatch) -> CountingEmbed:  # type: ignore[no-untyped-def]
    """Counts every text the assistant embeds: queries (the index) and sentences (the engine)."""
    counting = CountingEmbed(bot.index.embedder)
    monkeypatch.setattr(bot.index.embedder, "embed", counting)
    monkeypatch.setattr(bot.engine, "embed", counting)
    return counting


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fast") / "index"
    Assistant.build([SAMPLES], directory).close()
    return directory


def test_sentence_vectors_are_stored_at_ingest_and_a_question_embeds_only_itself(built: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot = Assistant.open(built)  # a fresh process's view: vectors read back from disk
    store = bot.index.store
    assert set(store.docs.sentence_ids()) == set(store.docs.passage_ids()), "every passage has its sentence vectors"
    pid = next(iter(store.docs.passage_ids()))
    rows = store.sentence_vectors(pid)
    assert rows is not None and rows.dtype == np.float16 and rows.shape[1] == store.manifest.dimension
    counting = count_embeddings(bot, monkeypatch)
    answer = bot.ask(QUESTION)
    assert answer.answered and "New York" in answer.text
    assert counting.texts == [QUESTION], "the candidate sentences were not embedded again"


def test_removing_an_article_drops_its_sentence_vectors(tmp_path: Path) -> None:
    bot = Assistant.build([SAMPLES], tmp_path / "index")
    article = next(iter(bot.index.store.docs.iter_articles()))
    pids = list(bot.index.store.docs.passage_ids_of(article.id))
    assert bot.remove([article.id]) == [article.id]
    again = Assistant.open(tmp_path / "index")
    assert not set(pids) & set(again.index.store.docs.sentence_ids())
    assert set(again.index.store.docs.sentence_ids()) == set(again.index.store.docs.passage_ids())


def test_an_evaluation_embeds_each_question_once(built: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot = Assistant.open(built)
    cases = [
        TestCase(id="a", question=QUESTION, reference_answer=["New York"]),
        TestCase(id="b", question="How many homes were destroyed by the wildfire?", reference_answer=["30"]),
    ]
    write_testset(cases, tmp_path / "set.jsonl")
    counting = count_embeddings(bot, monkeypatch)
    evaluate(bot, tmp_path / "set.jsonl", tmp_path / "run")
    questions = [t for t in counting.texts if t in {c.question for c in cases}]
    assert sorted(questions) == sorted(c.question for c in cases), "asking and scoring share one embedding"


HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "nltk", "sklearn", "llama_index")


def test_a_cold_ask_is_quiet_and_imports_nothing_heavy(built: Path) -> None:
    env = {**os.environ, "ASSISTANT_INDEX": str(built)}
    command = Path(sys.executable).parent / "assistant"
    proc = subprocess.run([str(command), "ask", QUESTION], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "New York" in proc.stdout
    assert proc.stderr == "", "no progress bars or log lines on a plain ask"
    probe = (
        "import json, sys\n"
        "from assistant import Assistant\n"
        "from assistant.answering.judges.wordnet import wordnet\n"
        f"bot = Assistant.open({str(built)!r})\n"
        f"assert bot.ask({QUESTION!r}).answered\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules] + "
        "(['wordnet'] if wordnet.cache_info().currsize else [])))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [], "the query path loads none of them"


def test_the_ui_imports_gradio_without_rewriting_its_type_stubs() -> None:
    probe = (
        "from ui.gradio_import import import_gradio, _no_stubs\n"
        "gr = import_gradio()\n"
        "import gradio.component_meta as meta\n"
        "assert meta.create_or_modify_pyi is _no_stubs\n"
        "with gr.Blocks() as demo:\n"
        "    gr.Textbox(label='Question')\n"
        "print(type(demo).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "Blocks"


def test_assistant_serve_comes_up_and_answers(built: Path) -> None:
    """The real command: gradio imported in a thread while the index opens, then the server."""
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    command = Path(sys.executable).parent / "assistant"
    proc = subprocess.Popen(
        [str(command), "serve", "--index", str(built), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the server answers
        assert line.startswith(f"News assistant at http://127.0.0.1:{port}"), line + proc.stderr.read()  # type: ignore[union-attr]
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/ask")
        assert "New York" in json.dumps(result)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_count_articles_gives_the_progress_bar_a_total(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One article.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("Another.")
    (tmp_path / "sub" / "ignored.xyz").write_text("not an article file")
    lines = [json.dumps({"text": f"Story {i}."}) for i in range(5)]
    (tmp_path / "many.jsonl").write_text("\n".join(lines))  # no newline at the end
    assert count_articles([tmp_path]) == 2 + 5
    assert count_articles([tmp_path / "many.jsonl", tmp_path / "missing.txt"]) == 5 + 1


def test_without_stored_sentence_vectors_answers_embed_the_sentences(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(index={"sentence_vectors": False})
    bot = Assistant.build([SAMPLES], tmp_path / "index", settings)
    assert not bot.index.store.docs.sentence_ids(), "the setting turns them off (a faster ingest)"
    counting = count_embeddings(bot, monkeypatch)
    answer = bot.ask(QUESTION)
    assert answer.answered and "New York" in answer.text
    assert len(counting.texts) > 1, "the candidate sentences were embedded at question time"


def test_preload_loads_the_embedder_and_the_answer_model_in_a_thread(tmp_path: Path) -> None:
    """What `assistant ask` starts beside spaCy's load: after it, a question loads neither again."""
    from assistant.samples_index import sample_articles_path

    Assistant.build([sample_articles_path()], tmp_path / "idx").close()
    bot = Assistant.open(tmp_path / "idx")
    engine = bot.engine
    assert "_session" not in vars(bot.index.embedder) and engine.reader._model is None  # type: ignore[attr-defined]
    bot.preload().join(60)
    assert "_session" in vars(bot.index.embedder) and engine.reader._model is not None  # type: ignore[attr-defined]
    assert bot.ask("How many homes has the Pine Ridge wildfire destroyed?").answered


def test_sentence_vectors_can_come_from_the_passages_own_pass(tmp_path: Path) -> None:
    """index.sentence_vectors_from_passage: one pass of the model per passage; each sentence's vector
    pools its word pieces there (unit length, one per sentence), the passage vectors are unchanged."""
    from assistant.samples_index import sample_articles_path
    from index import sentence_spans

    own = Assistant.build([sample_articles_path()], tmp_path / "own")
    derived = Assistant.build(
        [sample_articles_path()], tmp_path / "derived", Settings(index={"sentence_vectors_from_passage": True})
    )
    for pid in own.index.store.docs.passage_ids():
        a, b = own.index.sentence_vectors(pid), derived.index.sentence_vectors(pid)
        assert a is not None and b is not None and a.shape == b.shape
        assert len(b) == len(sentence_spans(derived.index.store.passage(pid).text))
        assert np.allclose(np.linalg.norm(b.astype(np.float32), axis=1), 1.0, atol=1e-2)
        assert np.allclose(own.index.passage_vector(pid), derived.index.passage_vector(pid), atol=1e-6)
    assert derived.ask("What interest rate did the central bank set?").answered


def test_span_vectors_of_texts_batched_together_use_each_texts_own_word_pieces() -> None:
    """Short texts run in one padded batch: a span is pooled over its own text's word pieces only."""
    from index import load_embedder
    from index.embedding.embedder import DEFAULT_MODEL

    embedder = load_embedder(DEFAULT_MODEL)
    texts = ["Short one. Two words.", "A longer text with several sentences in it. It goes on for a while longer."]
    vectors, spans = embedder.embed_spans(texts, [[(0, 10), (11, 21)], [(0, 43), (44, 74)]])  # type: ignore[attr-defined]
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-6)
    assert all(v is not None and abs(float(np.linalg.norm(v)) - 1) < 1e-4 for row in spans for v in row)
