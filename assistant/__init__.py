"""Question answering over news articles: every answer sentence cites its passage.

from assistant import Assistant
bot = Assistant.open()                      # the bundled sample index
answer = bot.ask("What channels did the US use?")
print(answer.text, answer.citations[0].title)
"""

from assistant.answer import Answer, Citation
from assistant.citations import NOT_IN_ARTICLES
from assistant.core import Assistant
from assistant.settings import AnswerSettings, Engine, IndexSettings, RetrievalSettings, Settings, UISettings
from index import (
    Article,
    AssistantError,
    ConfigurationError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IngestReport,
    ModelBackendError,
    UnreadableArticleError,
)
from index.news_index import PACKAGE_VERSION as __version__

__all__ = [
    "NOT_IN_ARTICLES",
    "Answer",
    "AnswerSettings",
    "Article",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigurationError",
    "Engine",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "IngestReport",
    "ModelBackendError",
    "RetrievalSettings",
    "Settings",
    "UISettings",
    "UnreadableArticleError",
    "__version__",
]
