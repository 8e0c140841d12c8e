"""The project's one family of errors. ``assistant`` re-exports them.

Every message names the bad value and says how to fix it. Each class carries the HTTP status the
API answers it with (``http_status``):

    AssistantError                      503  (anything else that went wrong on purpose)
    ├── ConfigurationError              400  a setting that cannot work
    ├── InvalidRequestError             400  a question, filter or day that cannot be read
    ├── IndexNotFoundError              404
    ├── ArticlesNotFoundError           404  paths that don't exist or hold no article
    ├── IndexBusyError                  409  another writer holds the index
    ├── IndexChangedError               409
    ├── IndexMismatchError              503  built with other settings
    ├── IndexCorruptError               503
    ├── IndexWriteError                 503  a save that failed (disk full, read-only)
    ├── UnreadableArticleError          400
    ├── ModelBackendError               503  a model or its server can't be used
    ├── FetchError                      502  a feed or page could not be fetched
    └── (assistant.conversations) ConversationNotFoundError 404, ConversationStoreError 503
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error this project raises on purpose."""

    http_status = 503


class ConfigurationError(AssistantError):
    """A setting has a value that cannot work (unknown model, bad path, bad range)."""

    http_status = 400


class IndexNotFoundError(AssistantError):
    """No index exists at the given directory."""

    http_status = 404


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings (model, chunking) than the ones in use."""


class IndexChangedError(AssistantError):
    """Another process published a new generation of the index while this one was writing."""

    http_status = 409


class IndexBusyError(AssistantError):
    """Another process holds the index's write lock (and waiting was not asked for)."""

    http_status = 409


class IndexCorruptError(AssistantError):
    """An index file is missing, truncated or unreadable."""


class InvalidRequestError(AssistantError):
    """A request the assistant refuses as asked (a question over the length limit)."""

    http_status = 400


class IndexWriteError(AssistantError):
    """The index could not be written (disk full, read-only, no permission); what was published stays."""


def os_reason(error: OSError) -> str:
    """An OS error in a few words: its text and its symbolic name, e.g. "No space left on device (ENOSPC)"."""
    import errno

    name = errno.errorcode.get(error.errno or 0, "")
    return f"{error.strerror or error}{f' ({name})' if name else ''}"


class ArticlesNotFoundError(AssistantError):
    """A path given to ingest does not exist, or nothing in the paths is an article."""

    http_status = 404


class UnreadableArticleError(AssistantError):
    """An article file or record could not be read; the message names it and says why."""

    http_status = 400


class ModelBackendError(AssistantError):
    """An embedding or generation model could not be loaded or failed while running."""


class FetchError(AssistantError):
    """A URL could not be fetched; ``reason`` says why in a few words."""

    http_status = 502

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
