import subprocess
import sys
import types

import assistant
import index


def test_public_api_is_exactly_all() -> None:
    # the package's submodules (the public module of each wing among them) are not names of the facade
    public = {name for name in dir(assistant) if not name.startswith("_")}
    public -= {name for name in public if isinstance(getattr(assistant, name), types.ModuleType)}
    assert public == set(assistant.__all__) - {"__version__"}
    for name in assistant.__all__:
        assert getattr(assistant, name) is not None
    assert issubclass(assistant.IndexMismatchError, assistant.AssistantError)
    assert assistant.AssistantError is index.AssistantError


def test_import_stays_light() -> None:
    code = (
        "import sys, assistant, ui.app; heavy = {'torch', 'gradio', 'sentence_transformers', 'faiss', "
        "'transformers', 'trafilatura', 'llama_index', 'nltk'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_settings_from_env_and_errors() -> None:
    import pytest
    from pydantic import ValidationError

    s = assistant.Settings.from_env({"ASSISTANT_INDEX": "/tmp/x", "ASSISTANT_RETRIEVAL__TOP_K": "7"})
    assert str(s.index_dir()) == "/tmp/x" and s.retrieval.top_k == 7
    with pytest.raises(ValidationError, match="top_k"):
        assistant.Settings.from_env({"ASSISTANT_RETRIEVAL__TOP_K": "0"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        assistant.Settings.from_env({"ASSISTANT_ANSWER__TYPO": "1"})
