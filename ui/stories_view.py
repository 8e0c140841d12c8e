"""Stories over time in the UI: the "What's new" tab (the digest: stories with new reports, each its
newest report's first sentence with its source) and "This story" (a story's timeline from any source
of the latest answer, in the Chat tab's side column and under the digest)."""

from __future__ import annotations

import html
from typing import Any

from assistant import Answer, Assistant, AssistantError, Digest
from ui.render import day_label


def render_digest(digest: Digest) -> str:
    """The digest as HTML: one card per story, newest first."""
    if not digest.stories:
        return f"<p><em>No new reports from {html.escape(digest.since)} to {html.escape(digest.as_of)}.</em></p>"
    rows = [f"<h3>What's new since {html.escape(day_label(digest.since))}</h3>"]
    for n, s in enumerate(digest.stories, 1):
        counted = f"{s.new_reports} new of {s.reports} report{'s' if s.reports != 1 else ''}"
        span = (
            day_label(s.first_day)
            if s.first_day == s.last_day
            else f"{day_label(s.first_day)} – {day_label(s.last_day)}"
        )
        rows.append(
            f'<div class="source-card digest-story" data-story="{n}"><div><strong>{n}. {html.escape(s.title)}</strong>'
            f'</div><div class="meta">{html.escape(counted)} · {html.escape(span)}</div>'
            f'<div class="passage">{html.escape(s.line)} <span class="meta">— {html.escape(s.citation.source)}, '
            f"{html.escape(day_label(s.citation.date))}</span></div></div>"
        )
    return "\n".join(rows)


def render_story(answer: Answer) -> str:
    """A story's timeline: one dated line per report, each with its source."""
    if not answer.timeline:
        return "<p><em>No timeline: the story's reports could not be read.</em></p>"
    rows = ['<ol class="timeline">']
    for line in answer.timeline:
        cited = answer.citation(line.marker)
        source = html.escape(cited.source if cited is not None else "")
        rows.append(
            f'<li data-day="{html.escape(line.day)}"><strong>{html.escape(day_label(line.day))}</strong> — '
            f'{html.escape(line.text)} <span class="meta">[{line.marker}] {source}</span></li>'
        )
    rows.append("</ol>")
    if answer.note:
        rows.append(f'<p class="meta">{html.escape(answer.note)}</p>')
    return "\n".join(rows)


def story_choices(answer: Answer | None) -> list[tuple[str, str]]:
    """(label, article id) for each source of an answer, for the "This story" picker."""
    if answer is None:
        return []
    cards = answer.citations or answer.related
    return [(f"[{c.marker}] {c.title} · {c.date[:10]}", c.article_id) for c in cards]


def show_story(assistant: Assistant, article_id: str | None, as_of: str | None = None) -> str:
    if not article_id:
        return "<p><em>Choose a source first.</em></p>"
    try:
        return render_story(assistant.story(article_id, as_of or None))
    except AssistantError as e:
        return f"<p><strong>Could not show the story:</strong> {html.escape(str(e))}</p>"


def story_panel(gr: Any) -> tuple[Any, Any, Any]:
    """The Chat tab's "This story" panel (inside its side column): a source of the latest answer,
    and its story's timeline. Returns (picker, button, timeline)."""
    with gr.Accordion("This story: how a source's story developed", open=False, elem_id="story-panel"):
        picked = gr.Dropdown([], label="Source of the latest answer", elem_id="story-pick")
        show = gr.Button("Show its timeline", elem_id="story-show", size="sm")
        timeline = gr.HTML(elem_id="story")
    return picked, show, timeline


def wire_story_panel(gr: Any, assistant: Assistant, panel: tuple[Any, Any, Any], conversation: Any, as_of: Any) -> None:
    """The panel's events: its picker lists the open conversation's latest answer's sources."""
    picked, show, timeline = panel

    def sources(conversation_id: str | None) -> Any:
        answer = None
        if conversation_id:
            try:
                turns = assistant.conversations.get(conversation_id).turns
                answer = turns[-1].answer if turns else None
            except AssistantError:
                answer = None
        choices = story_choices(answer)
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    picked.focus(sources, conversation, picked, api_visibility="private")
    show.click(lambda aid, day: show_story(assistant, aid, day), [picked, as_of], timeline, api_visibility="private")


def whats_new_tab(gr: Any, assistant: Assistant) -> None:
    """The "What's new" tab: the digest since a day, and a chosen story's timeline."""
    with gr.Tab("What's new"):
        with gr.Row(equal_height=True):
            since = gr.Textbox(
                value="yesterday",
                label="Since (YYYY-MM-DD, yesterday, N days, last refresh)",
                elem_id="digest-since",
                scale=2,
                min_width=160,
            )
            as_of = gr.Textbox(
                label="As of (YYYY-MM-DD; default today)", elem_id="digest-as-of", scale=2, min_width=160
            )
            show = gr.Button("Show what's new", variant="primary", elem_id="digest-show", scale=1, min_width=120)
        digest_html = gr.HTML("<p><em>Stories with new reports appear here.</em></p>", elem_id="digest")
        with gr.Row(equal_height=True):
            picked = gr.Dropdown([], label="This story", elem_id="digest-story-pick", scale=3, min_width=160)
            timeline = gr.Button("Show its timeline", elem_id="digest-story-show", scale=1, min_width=120)
        story_html = gr.HTML(elem_id="digest-story")

    def on_show(day: str, asked: str) -> tuple[str, Any]:
        try:
            digest = assistant.digest(day or None, asked or None)
        except AssistantError as e:
            return f"<p><strong>{html.escape(str(e))}</strong></p>", gr.update(choices=[], value=None)
        choices = [(f"{n}. {s.title}", s.article_ids[0]) for n, s in enumerate(digest.stories, 1)]
        return render_digest(digest), gr.update(choices=choices, value=choices[0][1] if choices else None)

    show.click(on_show, [since, as_of], [digest_html, picked], api_name="digest")
    timeline.click(lambda aid, asked: show_story(assistant, aid, asked), [picked, as_of], story_html, api_name="story")
