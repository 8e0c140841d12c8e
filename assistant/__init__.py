"""Question answering over news articles: every answer sentence cites its passage.

from assistant import Assistant
bot = Assistant.open()                      # the bundled sample index
answer = bot.ask("What channels did the US use?")
print(answer.text, answer.citations[0].title)
"""

from assistant.answering.answer import Answer, Citation, SentenceCheck, ShortAnswer
from assistant.answering.citations import NOT_IN_ARTICLES
from assistant.answering.engines.base import AnswerEngine, Draft, DraftRequest, engine_names
from assistant.answering.judges.judge import FaithfulnessJudge, Verdict
from assistant.answering.nlp import load_in_background as load_nlp_in_background
from assistant.answering.pipeline import Event, Finished, Retrieved, Rewritten, Token
from assistant.article_listing import ArticlePage, ArticleRow
from assistant.checks import IndexCheck, check_index
from assistant.conversations import (
    MAX_COMMENT,
    MAX_TITLE,
    Conversation,
    ConversationNotFoundError,
    ConversationStore,
    ConversationStoreError,
    Turn,
    read_chat,
    with_sources,
)
from assistant.core import Assistant, AssistantInfo, check_paths
from assistant.evaluation import (
    EvaluationError,
    RunResult,
    TestCase,
    TestSetError,
    compare_runs,
    evaluate,
    load_testset,
    new_run_dir,
    write_testset,
)
from assistant.evaluation.feedback import feedback_testset
from assistant.evaluation.synthetic import generate_testset
from assistant.samples_index import sample_articles_path, sample_testset_path
from assistant.settings import (
    AnswerSettings,
    APISettings,
    Engine,
    IndexSettings,
    LLMSettings,
    RetrievalSettings,
    Settings,
    SourcesSettings,
    UISettings,
    Unsupported,
    default_data_dir,
    use_offline_environment,
)
from assistant.web_sources import SourceRow, WebSources, parse_every
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
    "Conversation",
    "ConversationNotFoundError",
    "ConversationStoreError",
    "ConversationStore",
    "Turn",
    "NOT_IN_ARTICLES",
    "APISettings",
    "Answer",
    "AnswerEngine",
    "AnswerSettings",
    "Article",
    "ArticlePage",
    "ArticleRow",
    "MAX_COMMENT",
    "MAX_TITLE",
    "article_from_record",
    "read_chat",
    "with_sources",
    "IndexCheck",
    "check_index",
    "check_paths",
    "is_url",
    "parse_every",
    "RefreshReport",
    "SourceRow",
    "WebSources",
    "SourcesSettings",
    "feedback_testset",
    "generate_testset",
    "load_nlp_in_background",
    "parse_day",
    "question_window",
    "AssistantInfo",
    "IndexInfo",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigurationError",
    "Draft",
    "DraftRequest",
    "Engine",
    "EvaluationError",
    "Event",
    "FaithfulnessJudge",
    "Filters",
    "Finished",
    "IndexBusyError",
    "IndexChangedError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "ArticlesNotFoundError",
    "IndexSettings",
    "IngestReport",
    "LLMSettings",
    "LoadFailure",
    "ModelBackendError",
    "Retrieved",
    "RetrievalSettings",
    "Rewritten",
    "RunResult",
    "SentenceCheck",
    "ShortAnswer",
    "Settings",
    "TestCase",
    "TestSetError",
    "Token",
    "UISettings",
    "InvalidRequestError",
    "UnreadableArticleError",
    "Unsupported",
    "Verdict",
    "__version__",
    "compare_runs",
    "default_data_dir",
    "engine_names",
    "evaluate",
    "load_testset",
    "new_run_dir",
    "sample_articles_path",
    "sample_testset_path",
    "use_offline_environment",
    "write_testset",
]
