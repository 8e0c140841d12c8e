"""Question answering over news articles: every answer sentence cites its passage.

from assistant import Assistant
bot = Assistant.open()                      # the bundled sample index
answer = bot.ask("What channels did the US use?")
print(answer.text, answer.citations[0].title)
"""

from assistant.answer import Answer, Citation
from assistant.citations import NOT_IN_ARTICLES
from assistant.core import Assistant
from assistant.evaluation import RunResult, compare_runs, evaluate
from assistant.judge import FaithfulnessJudge, Verdict
from assistant.settings import AnswerSettings, Engine, IndexSettings, RetrievalSettings, Settings, UISettings
from assistant.testset import TestCase, TestSetError, load_testset, write_testset
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
    "FaithfulnessJudge",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "IngestReport",
    "ModelBackendError",
    "RetrievalSettings",
    "RunResult",
    "Settings",
    "TestCase",
    "TestSetError",
    "UISettings",
    "UnreadableArticleError",
    "Verdict",
    "__version__",
    "compare_runs",
    "evaluate",
    "load_testset",
    "write_testset",
]
