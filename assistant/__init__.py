"""Question answering over news articles: every answer sentence cites its passage.

from assistant import Assistant
bot = Assistant.open()                      # the bundled sample index
answer = bot.ask("What channels did the US use?")
print(answer.text, answer.citations[0].title)
"""

from assistant.answering.answer import Answer, Citation, Disagreement, SentenceCheck, ShortAnswer, TimelineLine
from assistant.answering.citations import NOT_IN_ARTICLES
from assistant.answering.nlp import load_in_background as load_nlp_in_background
from assistant.answering.pipeline import Event, Finished, Retrieved, Rewritten, Token
from assistant.answering.stories.digest import Digest, DigestStory
from assistant.article_listing import ArticlePage, ArticleRow
from assistant.checks import IndexCheck
from assistant.composition import check_paths
from assistant.conversations import Conversation, ConversationNotFoundError, ConversationStoreError, Turn
from assistant.core import Assistant, AssistantInfo
from assistant.evaluation import EvaluationError, TestSetError
from assistant.settings import Settings
from assistant.web_sources import SourceRow
from index import (
    Article,
    ArticlesNotFoundError,
    AssistantError,
    ConfigurationError,
    Filters,
    IndexBusyError,
    IndexChangedError,
    IndexCorruptError,
    IndexInfo,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    IngestReport,
    InvalidRequestError,
    LoadFailure,
    ModelBackendError,
    UnreadableArticleError,
    article_from_record,
)
from index.language.dates import parse_day, question_window
from index.news_index import PACKAGE_VERSION as __version__
from index.web.sources import RefreshReport, is_url

__all__ = [
    "__version__",
    "Answer",
    "Article",
    "article_from_record",
    "ArticlePage",
    "ArticleRow",
    "ArticlesNotFoundError",
    "Assistant",
    "AssistantError",
    "AssistantInfo",
    "check_paths",
    "Citation",
    "Digest",
    "Disagreement",
    "DigestStory",
    "ConfigurationError",
    "Conversation",
    "ConversationNotFoundError",
    "ConversationStoreError",
    "EvaluationError",
    "Event",
    "Filters",
    "Finished",
    "IndexBusyError",
    "IndexChangedError",
    "IndexCheck",
    "IndexCorruptError",
    "IndexInfo",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "IngestReport",
    "InvalidRequestError",
    "is_url",
    "load_nlp_in_background",
    "LoadFailure",
    "ModelBackendError",
    "NOT_IN_ARTICLES",
    "parse_day",
    "question_window",
    "RefreshReport",
    "Retrieved",
    "Rewritten",
    "SentenceCheck",
    "Settings",
    "ShortAnswer",
    "SourceRow",
    "TestSetError",
    "TimelineLine",
    "Token",
    "Turn",
    "UnreadableArticleError",
]
