from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import ConfigurationError, sentence_spans, split_passages


def words(texts: Sequence[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_sentence_boundaries_respect_quotes_abbreviations_and_paragraphs() -> None:
    text = (
        'Headline without a stop\n\n"We tried," he said. Mr. Lee met Dr. Ortiz in the U.S. capital. '
        "Talks ended at 3 p.m. on Friday. Was it enough? Nobody knows!\n“To date, nothing,” he added."
    )
    assert sentences(text) == [
        "Headline without a stop",
        '"We tried," he said.',
        "Mr. Lee met Dr. Ortiz in the U.S. capital.",
        "Talks ended at 3 p.m. on Friday.",
        "Was it enough?",
        "Nobody knows!",
        "“To date, nothing,” he added.",
    ]


def test_long_sentence_is_cut_at_words_to_fit() -> None:
    text = " ".join(f"w{i}" for i in range(25)) + "."
    spans = split_passages(text, words, max_tokens=10, overlap_tokens=0)
    assert [len(text[a:b].split()) for a, b in spans] == [10, 10, 5]


def test_invalid_chunk_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="overlap_tokens=10"):
        split_passages("Some text.", words, max_tokens=10, overlap_tokens=10)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789'-", min_size=1, max_size=9)
SENTENCE = st.builds(
    lambda first, rest, end: " ".join([first.capitalize(), *rest]) + end,
    WORD,
    st.lists(WORD, max_size=30),
    st.sampled_from([".", "!", "?", '."', ".”"]),
)
SEPARATOR = st.sampled_from([" ", "  ", "\n", "\n\n", " \n\n  "])
ARTICLE = st.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps * 40, strict=False)),
    st.lists(SENTENCE, min_size=1, max_size=25),
    st.lists(SEPARATOR, min_size=1, max_size=5),
)


def check_passages(text: str, spans: list[tuple[int, int]], count, max_tokens: int, overlap: int) -> None:  # type: ignore[no-untyped-def]
    assert spans, "non-empty text gives at least one passage"
    for a, b in spans:
        passage = text[a:b]
        assert passage == passage.strip() and passage
        assert count([passage])[0] <= max_tokens
    starts = {a for a, _ in sentence_spans(text)}
    for (a1, b1), (a2, b2) in zip(spans, spans[1:], strict=False):
        assert a1 < a2 and b1 < b2, "passages move forward"
        if a2 < b1:  # the shared part is within the overlap budget and starts at a sentence
            assert count([text[a2:b1]])[0] <= overlap
            assert a2 in starts
    uncovered = set(range(len(text))) - {i for a, b in spans for i in range(a, b)}
    assert all(text[i].isspace() for i in uncovered), "no text is lost between passages"


@settings(max_examples=150, deadline=None)
@given(ARTICLE, st.integers(min_value=5, max_value=60), st.data())
def test_passages_fit_slice_back_and_overlap_whole_sentences(text: str, max_tokens: int, data) -> None:  # type: ignore[no-untyped-def]
    overlap = data.draw(st.integers(min_value=0, max_value=max_tokens - 1))
    spans = split_passages(text, words, max_tokens=max_tokens, overlap_tokens=overlap)
    check_passages(text, spans, words, max_tokens, overlap)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(ARTICLE)
def test_passages_fit_the_embedding_models_own_tokenizer(text: str) -> None:
    from index import load_embedder

    count = load_embedder("all-MiniLM-L6-v2").count_tokens
    spans = split_passages(text, count, max_tokens=48, overlap_tokens=12)
    check_passages(text, spans, count, 48, 12)


def test_overlap_carries_trailing_sentences() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    spans = split_passages(text, words, max_tokens=7, overlap_tokens=3)
    assert [text[a:b] for a, b in spans] == [
        "One two three. Four five six.",
        "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]
