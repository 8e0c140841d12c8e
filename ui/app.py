"""The Gradio chat app: a thin adapter over the public ``assistant`` API.

``build_app(assistant)`` returns the ``gr.Blocks``; ``launch`` serves it on 127.0.0.1 with sharing
and analytics off, behind a Content-Security-Policy that loads nothing from another origin and a
check of the ``Host`` header (see :mod:`api.http`). Article text is never rendered: in the
chat every character that Markdown or HTML would act on is escaped, so the only links there are our
own citation links; the sources panel and the Articles tab escape it as HTML.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant import Assistant
from assistant.settings import use_offline_environment
from serving.hardening import access_key, allowed_hosts, harden
from serving.server import Server
from ui.articles_tab import ARTICLES_PER_PAGE, list_articles
from ui.browser_gate import PAGE_TOKEN_SCRIPT, BrowserGate
from ui.chat_handlers import parse_filters
from ui.evaluate_tab import eval_runs_dir
from ui.gradio_import import import_gradio
from ui.render import CHAT_SCRIPT, CSS, header_text
from ui.uploads import add_files

if TYPE_CHECKING:
    import gradio as gr

HEADER_REFRESH_S = 15.0  # how often the header's article count is read again

__all__ = ["ARTICLES_PER_PAGE", "add_files", "build_app", "launch", "list_articles", "parse_filters"]


def build_app(assistant: Assistant) -> gr.Blocks:
    """The UI for ``assistant``: the Chat tab (conversations, chat, sources panel, filters, adding
    articles), the Articles tab and the Evaluate tab, each built by its own module."""
    from ui.articles_tab import articles_tab
    from ui.chat_tab import chat_tab
    from ui.evaluate_tab import evaluate_tab
    from ui.stories_view import whats_new_tab

    use_offline_environment()
    gr = import_gradio()
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        header = gr.Markdown(header_text(assistant.info()), elem_id="header")
        # one strip of three tabs: every visible component of a tab is built inside it (one between
        # two tabs splits the strip). No gr.Tabs() around them: the chat tab's events make states
        # outside its tab, and inside an explicit gr.Tabs() those broke the strip at the first click
        chat_tab(gr, demo, assistant, header)
        articles_tab(gr, demo, assistant, header)
        whats_new_tab(gr, assistant)
        evaluate_tab(gr, assistant)

        def ask_json(question: str) -> str:
            """Answer one question; returns the Answer as JSON (the /ask endpoint, for scripts)."""
            return assistant.ask(question).to_json()

        gr.api(ask_json, api_name="ask")  # outside the tabs: a strip holds only tabs
        # another process (a CLI ingest, a feed refresh) may change the index: the count follows
        gr.Timer(HEADER_REFRESH_S).tick(
            lambda: header_text(assistant.info()), None, header, api_visibility="private", show_progress="hidden"
        )
    return demo


def gradio_login(app: Any) -> Callable[[Any], bool]:
    """Whether a request (its ASGI scope) carries a login of the Gradio app mounted in ``app``
    (the cookie its /login sets): for the routes Gradio serves without checking it."""
    from http.cookies import SimpleCookie

    from gradio.routes import App

    gradio_app = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), App))

    def logged_in(scope: Any) -> bool:
        cookies: SimpleCookie = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # noqa: BLE001 (a malformed cookie is no login)
                    return False
        for name in (f"access-token-{gradio_app.cookie_id}", f"access-token-unsecure-{gradio_app.cookie_id}"):
            if name in cookies and cookies[name].value in gradio_app.tokens:
                return True
        return False

    return logged_in


def launch(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Server:
    """Serve the app on ``host:port`` (never shared publicly), hardened as :func:`harden` and
    :class:`BrowserGate` say: no other web page can call it, uploads are read only from the upload
    folder, and beyond loopback every visitor logs in with the API key (``api.api_key_env``; any
    user name, the key as password). With ``block`` False, return the running :class:`Server`."""
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware

    gr = import_gradio()

    settings = assistant.settings.ui
    key_env = assistant.settings.api.api_key_env
    key = access_key(host, key_env, "the web UI", "visitors then log in with it as the password")
    assistant.warm_up()  # the first user does not wait for the models to load
    demo = build_app(assistant)
    # questions run side by side: each reads its own generation of the index, writers make a new one
    demo.queue(default_concurrency_limit=4)
    parent = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # a CORS policy of our own that allows no other origin: Gradio then adds none of its own (it
    # would reflect any localhost origin, with credentials)
    parent.add_middleware(CORSMiddleware, allow_origins=[])
    app = gr.mount_gradio_app(
        parent,
        demo,
        path="",
        server_name=host,
        server_port=port,
        allowed_paths=[str(eval_runs_dir())],  # the report file offered for download
        css=CSS,
        head=PAGE_TOKEN_SCRIPT + CHAT_SCRIPT,
        show_error=True,
        max_file_size=int(settings.max_upload_mb * 1_000_000),
        auth=(lambda _user, password: secrets.compare_digest(password.encode(), key.encode())) if key else None,
        auth_message=f"Log in with the key in {key_env} as the password (any user name).",
    )
    # mount_gradio_app never marks the Blocks launched, and Gradio skips its own checks of a
    # FileData path (only files in the upload folder) until it is: turned on here
    demo.has_launched = True
    app.add_middleware(BrowserGate, logged_in=gradio_login(app) if key else None)
    harden(app, allowed_hosts(host, settings.allowed_hosts))
    return Server(app, host, port).run("News assistant", block)
