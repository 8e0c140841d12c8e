"""Articles in, searchable passages out: load, split, embed, store and search."""

from index.disk.files import full_checksums
from index.embedding.embed_cache import CachedEmbedder
from index.embedding.embedder import DEFAULT_MODEL, Embedder, load_embedder
from index.errors import (
    ArticlesNotFoundError,
    AssistantError,
    ConfigurationError,
    IndexBusyError,
    IndexChangedError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    InvalidRequestError,
    ModelBackendError,
    UnreadableArticleError,
)
from index.language.splitter import sentence_spans, split_passages
from index.manifest import Manifest
from index.news_index import IndexInfo, NewsIndex
from index.reading.loaders import (
    SUPPORTED_SUFFIXES,
    Limits,
    LoadFailure,
    article_from_record,
    count_articles,
    load_file,
    load_paths,
    missing_paths,
)
from index.records import Article, Hit, Passage, content_id
from index.retrieval import Filters, Fusion, Mode
from index.settings import IndexSettings, RetrievalSettings, SourcesSettings
from index.store import PassageStore
from index.writer import IngestReport

__all__ = [
    "DEFAULT_MODEL",
    "Filters",
    "Fusion",
    "Mode",
    "IndexSettings",
    "RetrievalSettings",
    "SourcesSettings",
    "SUPPORTED_SUFFIXES",
    "Article",
    "CachedEmbedder",
    "AssistantError",
    "ConfigurationError",
    "Embedder",
    "Hit",
    "IndexBusyError",
    "IndexChangedError",
    "IndexInfo",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "ArticlesNotFoundError",
    "IngestReport",
    "InvalidRequestError",
    "Limits",
    "LoadFailure",
    "Manifest",
    "ModelBackendError",
    "NewsIndex",
    "Passage",
    "PassageStore",
    "full_checksums",
    "UnreadableArticleError",
    "content_id",
    "article_from_record",
    "load_embedder",
    "load_file",
    "load_paths",
    "missing_paths",
    "count_articles",
    "sentence_spans",
    "split_passages",
]
