"""The bundled sample articles and test set, and what tells the sample index from one the user added
to (issue 33: the default index is the user's once they add to it)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from index import Article, IndexSettings, PassageStore, load_paths
from index.web.sources import SOURCES_NAME


def sample_articles_path() -> Path:
    """The bundled sample articles (a JSONL file inside the installed package)."""
    return Path(str(resources.files("assistant") / "samples" / "articles.jsonl"))


def user_additions(directory: Path) -> str:
    """What the user added to the default index at ``directory``: articles beyond the bundled
    samples, or web sources; empty when it holds only the bundled articles (so it may be rebuilt)."""
    if (directory / SOURCES_NAME).exists():
        return f"web sources in {SOURCES_NAME}"
    manifest = PassageStore.read_manifest(directory)
    samples = {a.id for a in load_paths([sample_articles_path()], IndexSettings().limits()) if isinstance(a, Article)}
    if manifest.articles > len(samples):
        return f"{manifest.articles - len(samples)} articles beyond the {len(samples)} bundled ones"
    ids = set(PassageStore.load(directory).docs.article_ids())
    if not ids <= samples:
        return f"{len(ids - samples)} articles of your own"
    return ""


def sample_testset_path() -> Path:
    """The shipped test set over the bundled sample articles."""
    return Path(str(resources.files("assistant") / "samples" / "testset.jsonl"))
