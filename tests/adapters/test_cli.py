"""The installed `assistant` command, run as a user would."""

import json
from pathlib import Path
from typing import Any

import pytest

from index.embedding.embedder import DEFAULT_MODEL
from tests.helpers.cli import cli, cli_in_process


@pytest.mark.parametrize("command", ["", "ingest", "remove", "ask", "serve", "info", "eval", "testset generate"])
def test_every_command_has_help(command: str) -> None:
    out = cli(*command.split(), "--help").stdout
    assert "--help" in out
    if command:
        assert "--index" in out


@pytest.mark.slow
def test_ingest_ask_info_remove(tmp_path: Path, seed_path: Path) -> None:
    index = tmp_path / "idx"
    (tmp_path / "broken.pdf").write_bytes(b"nope")
    ingest = cli("ingest", str(seed_path), str(tmp_path / "broken.pdf"), index=index, check=False)
    assert ingest.returncode == 3, "some files failed: a distinct exit status"
    assert "1 added" in ingest.stdout and ingest.stderr.count("broken.pdf") == 1, "each problem printed once"
    answer = cli("ask", "What channels did the US use?", index=index).stdout
    assert "New York" in answer and "Sources:" in answer and "[1]" in answer
    # the rest in this process (the installed command's cold start was checked above)
    at, q = ["--index", str(index)], "What channels did the US use?"
    data = json.loads(cli_in_process("ask", q, "--json", *at).stdout)
    assert data["answered"] and data["citations"][0]["title"]
    cited = data["citations"][0]
    a, b = cited["passage_sentences"][0]  # offsets into the passage, beside the article's
    assert cited["passage"][a:b] in data["text"] and cited["passage_start"] == cited["start"]
    keyword = json.loads(cli_in_process("ask", q, "--json", "--mode", "keyword", *at).stdout)
    assert keyword["answered"] and "New York" in keyword["text"]
    other = json.loads(cli_in_process("ask", q, "--json", "--source", "Nobody", *at).stdout)
    assert not other["answered"] and other["related"] == []
    bad = cli_in_process("ask", "x?", "--mode", "fuzzy", *at)
    assert bad.exit_code == 2 and "fuzzy" in bad.stderr
    info = json.loads(cli_in_process("info", *at).stdout)
    assert info["articles"] == 1 and info["embed_model"] == DEFAULT_MODEL
    checked = cli_in_process("check", *at)
    assert checked.exit_code == 0 and "is sound" in checked.stdout
    missing = cli_in_process("remove", "no-such-id", *at)
    assert missing.exit_code == 1 and "not found" in missing.stderr
    assert "removed 1" in cli_in_process("remove", data["citations"][0]["article_id"], *at).stdout
    assert json.loads(cli_in_process("info", *at).stdout)["articles"] == 0


@pytest.mark.slow
def test_asking_a_missing_index_fails_fast_with_a_hint(tmp_path: Path) -> None:
    proc = cli("ask", "anything?", index=tmp_path / "none", check=False)
    assert proc.returncode == 2 and "assistant ingest --index" in proc.stderr


@pytest.mark.slow
def test_eval_generate_and_compare(tmp_path: Path) -> None:
    """On the sample index: a generated test set is evaluated, a bad one is refused line by line."""
    made = cli("testset", "generate", str(tmp_path / "cloze.jsonl"), "--count", "5")
    assert "made 5 questions" in made.stdout and "skipped" in made.stdout
    run = cli_in_process("eval", str(tmp_path / "cloze.jsonl"), "--out", str(tmp_path / "run"))
    assert "| hit@10 |" in run.stdout and (tmp_path / "run" / "report.html").is_file()
    same = cli_in_process("eval", "--compare", str(tmp_path / "run"), str(tmp_path / "run")).stdout
    assert "0 questions changed" in same
    (tmp_path / "bad.jsonl").write_text('{"question": "ok?"}\n{"id": 3}\n')
    bad = cli_in_process("eval", str(tmp_path / "bad.jsonl"))
    assert bad.exit_code == 2 and "line 2: question" in bad.stderr


@pytest.mark.slow
def test_engine_errors_name_the_setting_without_a_traceback(seed_bot: Any, tmp_path: Path) -> None:
    index = ["--index", str(seed_bot.index.directory)]
    missing = cli_in_process("ask", "Who?", *index, "--engine", "local", "--model", str(tmp_path / "none.gguf"))
    assert missing.exit_code == 2 and "llm.model_path" in missing.stderr and missing.exception is not None
    endpoint = ["--engine", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"]
    down = cli_in_process("ask", "Who?", *index, *endpoint)
    assert down.exit_code == 2 and "llm.base_url" in down.stderr and "Traceback" not in down.output
    info = json.loads(cli_in_process("info", *index).stdout)
    assert info["engine"] == "extractive" and info["prompt"] == ""


def test_ingest_of_a_missing_path_or_no_articles_fails_clearly_and_leaves_no_index(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    missing = cli("ingest", str(tmp_path / "nope"), index=index, check=False)
    assert missing.returncode == 2 and f"no such file or folder: {tmp_path / 'nope'}" in missing.stderr
    assert "Traceback" not in missing.stderr and not index.exists()
    (tmp_path / "empty").mkdir()
    nothing = cli("ingest", str(tmp_path / "empty"), index=index, check=False)
    assert nothing.returncode == 2 and "no article in" in nothing.stderr and not index.exists()


def test_the_version_a_busy_port_and_a_day_that_is_no_date_are_one_line_each(sample_bot: Any) -> None:
    import socket

    version = cli_in_process("--version")
    assert version.exit_code == 0 and version.output.startswith("news-assistant ")
    index = str(sample_bot.index.directory)
    for option in ("--since", "--until", "--as-of"):
        wrong = cli_in_process("ask", "What happened?", "--index", index, option, "last Tuesday")
        assert (
            wrong.exit_code == 2 and f"{option}: 'last Tuesday' is not a date: write it as YYYY-MM-DD" in wrong.output
        )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = cli_in_process("api", "--index", index, "--port", port)
    assert busy.exit_code == 2 and f"port {port} on 127.0.0.1 is in use (another server?)" in busy.output
    assert "--port" in busy.output and "Traceback" not in busy.output
