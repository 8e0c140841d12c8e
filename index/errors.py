"""The project's one family of errors. ``assistant`` re-exports them.

Every message names the bad value and says how to fix it.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigurationError(AssistantError):
    """A setting has a value that cannot work (unknown model, bad path, bad range)."""


class IndexNotFoundError(AssistantError):
    """No index exists at the given directory."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings (model, chunking) than the ones in use."""


class IndexChangedError(AssistantError):
    """Another process published a new generation of the index while this one was writing."""


class IndexBusyError(AssistantError):
    """Another process holds the index's write lock (and waiting was not asked for)."""


class IndexCorruptError(AssistantError):
    """An index file is missing, truncated or unreadable."""


class InvalidRequestError(AssistantError):
    """A request the assistant refuses as asked (a question over the length limit)."""


class IndexWriteError(AssistantError):
    """The index could not be written (disk full, read-only, no permission); what was published stays."""


def os_reason(error: OSError) -> str:
    """An OS error in a few words: its text and its symbolic name, e.g. "No space left on device (ENOSPC)"."""
    import errno

    name = errno.errorcode.get(error.errno or 0, "")
    return f"{error.strerror or error}{f' ({name})' if name else ''}"


class ArticlesNotFoundError(AssistantError):
    """A path given to ingest does not exist, or nothing in the paths is an article."""


class UnreadableArticleError(AssistantError):
    """An article file or record could not be read; the message names it and says why."""


class ModelBackendError(AssistantError):
    """An embedding or generation model could not be loaded or failed while running."""


class FetchError(AssistantError):
    """A URL could not be fetched; ``reason`` says why in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
