"""What the web UI shows, rendered: answers for the chat (Markdown with every character of article
or model text escaped), source cards and the header (HTML, escaped). Pure functions of an Answer."""

from __future__ import annotations

import datetime
import html
import re

from assistant import Answer, AssistantInfo, Citation
from assistant.wording import counted

CSS = """
.source-card {border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
  overflow-wrap: anywhere; min-width: 0;}
.source-card .meta {font-size: 0.85em; color: #57606a; margin-bottom: 6px;}
.source-card .passage {white-space: pre-wrap; font-size: 0.92em; line-height: 1.45;}
.source-card mark {background: #fff3b0; color: #1f2328; padding: 0 1px;}
.unverified {color: #9a6700; font-size: 0.85em;}
.time-tag {display: inline-block; font-size: 0.78em; padding: 1px 8px; border-radius: 10px;
  background: #ddf4ff; color: #0969da;}
.time-note {display: block; font-size: 0.88em; color: #57606a; margin-top: 4px;}
.dark .time-tag {background: #0c2d6b; color: #a5d6ff;}
.dark .time-note {color: #9198a1;}
ol.timeline {padding-left: 1.2em;} ol.timeline li {margin-bottom: 6px; overflow-wrap: anywhere;}
.verified {color: #1a7f37; font-size: 0.85em;}
.unverified-text {color: #6e7781; text-decoration: underline dotted;}
.turn-sources {margin-bottom: 16px;}
.turn-sources > summary {font-weight: 600; cursor: pointer;}
#sources {max-height: calc(100dvh - 260px); min-height: 120px; overflow-y: auto !important;
  overscroll-behavior: contain;}
#chat {height: calc(100dvh - 330px) !important; min-height: 240px;}
#conversation-bar, #ask-row {align-items: center; gap: 8px;}
#ask-row button {align-self: stretch;}
@media (max-width: 640px) {
  #header p:not(:last-child) {display: none;}
  #chat {height: calc(100dvh - 400px) !important;}
  #sources {max-height: 70dvh;}
}
.source-card.picked {outline: 2px solid #4a7bd0;}
.dark .verified {color: #3fb950;}
.dark .unverified {color: #e3b341;}
.dark .unverified-text {color: #9da7b3;}
.dark .source-card .meta {color: #9da7b3;}
.dark .source-card {border-color: #3d444d;}
#sources, #sources h3, #sources h4, .message-wrap .message {overflow-wrap: anywhere;}
"""
_PUNCTUATION = re.compile(r"([!-%'-/:;=?@\[-`{-~])")  # ASCII punctuation but & < > (entities below)


# The chat page's own script. A click on an answer's [n] opens its card in the sources panel,
# scrolling the panel only: the page (and so the chat) stays where it is (a plain link would scroll
# the whole page to the card), unless the panel is out of view (on a phone it is under the chat).
# Copying a message gives its text as shown, without the ✓ marks, and for an answer a numbered list
# of its sources (Gradio's own copy gives the escaped Markdown); a message's label (what a screen
# reader reads) is its text as shown, not its Markdown. Enter in the question box notes the question
# as sent (see chat_tab.CLEAR_QUESTION).
CHAT_SCRIPT = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  const card = link && document.getElementById(link.getAttribute("href").slice(1));
  const panel = card && card.closest("#sources");
  if (!panel) return;
  event.preventDefault();
  for (let up = card.parentElement; up && up !== panel; up = up.parentElement) {
    if (up.tagName === "DETAILS") up.open = true;
  }
  panel.scrollTop += card.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  const shown = panel.getBoundingClientRect();  // on a phone the panel is below the chat: bring it up
  if (shown.top < 0 || shown.top > window.innerHeight - 80) panel.scrollIntoView({block: "start"});
  card.classList.add("picked");
  setTimeout(() => card.classList.remove("picked"), 1500);
});
document.addEventListener("keydown", (event) => {  // the question as sent: what the box holds at Enter
  if (event.key === "Enter" && !event.shiftKey && event.target.matches && event.target.matches("#question textarea")) {
    window.newsAssistantSent = event.target.value;
  }
}, true);
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest('#chat button[aria-label="Copy message"]');
  if (!button) return;
  const buttons = [...document.querySelectorAll('#chat button[aria-label="Copy message"]')];
  const messages = [...document.querySelectorAll("#chat .message.user, #chat .message.bot")];
  const message = messages[buttons.indexOf(button)];
  if (!message) return;
  let text = message.innerText.replace(/\\s*\u2713/g, "").trim();
  if (message.classList.contains("bot")) {
    const turn = messages.filter((m) => m.classList.contains("bot")).indexOf(message) + 1;
    const cards = document.querySelectorAll(`#sources .turn-sources[data-turn="${turn}"] .source-card`);
    const lines = [...cards].map((c) => {
      const title = c.querySelector("strong").innerText.trim(), link = c.querySelector(".meta a");
      const meta = c.querySelector(".meta").innerText.trim().replace(/link$/, link ? link.href : "");
      return meta ? `${title} · ${meta}` : title;
    });
    if (lines.length) text += "\\n\\nSources:\\n" + lines.join("\\n");
  }
  setTimeout(() => navigator.clipboard.writeText(text), 100);  // after Gradio's own copy
});
const speak = () => {  // screen readers read a message's label: its text as shown, not its Markdown
  const labelled = `#chat [aria-label^="bot's message:"], #chat [aria-label^="user's message:"]`;
  for (const m of document.querySelectorAll(labelled)) {
    const who = m.getAttribute("aria-label").startsWith("bot") ? "bot's message: " : "user's message: ";
    const label = who + m.innerText.replace(/\\s*\u2713/g, "").replace(/\\s+/g, " ").trim();
    if (m.getAttribute("aria-label") !== label) m.setAttribute("aria-label", label);
  }
};
new MutationObserver(speak).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
</script>"""


def _meta(c: Citation) -> str:
    parts = [html.escape(x) for x in (c.source, c.date) if x]
    if c.url.startswith(("http://", "https://")):
        parts.append(f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">link</a>')
    return " · ".join(parts)


def _passage_html(c: Citation) -> str:
    """The passage, escaped, with its supporting sentences in <mark>."""
    out, pos = [], 0
    for start, end in sorted(c.passage_sentences):
        out.append(html.escape(c.passage[pos:start]))
        out.append(f"<mark>{html.escape(c.passage[start:end])}</mark>")
        pos = end
    out.append(html.escape(c.passage[pos:]))
    return "".join(out)


def _card(c: Citation, label: str, anchor: str = "") -> str:
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<div class="source-card"{ident} data-marker="{c.marker}"><div><strong>{label} '
        f'{html.escape(c.title or "Untitled")}</strong></div><div class="meta">{_meta(c)}</div>'
        f'<div class="passage">{_passage_html(c)}</div></div>'
    )


def anchor(turn: int, marker: int) -> str:
    """The element id of source card ``marker`` of answer ``turn`` (1-based)."""
    return f"src-{turn}-{marker}"


def render_sources(answer: Answer | None, turn: int = 0) -> str:
    """HTML for one answer's sources: numbered cited passages, or the nearest ones after a refusal.
    With ``turn``, each card gets the id its [n] links point at."""
    if answer is None:
        return "<p><em>Sources of the latest answer appear here.</em></p>"
    cards = answer.citations if answer.answered else answer.related
    heading = "Sources" if answer.answered else "Nearest passages (they don't answer the question)"
    rows = [f"<h3>{heading}</h3>"]
    if answer.query and answer.query != answer.question:
        rows.append(f'<p class="meta">Searched for: <em>{html.escape(answer.query)}</em></p>')
    if answer.fallback:
        rows.append(
            '<p class="meta">Nothing the model wrote could be checked against the articles (or it said they '
            "don't say); the sentences that most likely answer were taken from the articles instead.</p>"
            f'<details><summary>What the model wrote</summary><p class="unverified">{html.escape(answer.draft)}</p>'
            "</details>"
        )
    elif answer.draft:
        rows.append(
            "<details><summary>What the model wrote (no passage supports it)</summary>"
            f'<p class="unverified">{html.escape(answer.draft)}</p></details>'
        )
    for i, c in enumerate(cards, start=1):
        label = f"[{c.marker}]" if answer.answered else f"{i}."
        rows.append(_card(c, label, anchor(turn, c.marker) if turn and answer.answered else ""))
    if len(cards) == 0:
        rows.append("<p><em>No passages.</em></p>")
    return "\n".join(rows)


def render_all_sources(answers: list[Answer]) -> str:
    """Every answer's sources, newest first and open, the earlier ones folded (a click on their
    summary, or on one of their [n], opens them), so an earlier answer's [n] still finds its card."""
    if not answers:
        return render_sources(None)
    blocks = []
    for turn in range(len(answers), 0, -1):
        answer = answers[turn - 1]
        title = f"Answer {turn}: {html.escape(answer.question)}"
        opened = " open" if turn == len(answers) else ""
        blocks.append(
            f'<details class="turn-sources" data-turn="{turn}"{opened}><summary>{title}</summary>'
            f"{render_sources(answer, turn)}</details>"
        )
    return "\n".join(blocks)


def render_retrieved(query: str, passages: list[Citation]) -> str:
    """The sources panel while the answer is being written: what was searched and found."""
    rows = [f"<h3>Retrieved for: <em>{html.escape(query)}</em></h3>"]
    rows += [_card(c, f"[{c.marker}]") for c in passages] or ["<p><em>No passages.</em></p>"]
    return "\n".join(rows)


def escape_markdown(text: str) -> str:
    """Article or model text made inert in the chat's Markdown: every ASCII punctuation mark is
    backslash-escaped (no emphasis, link, image, autolink or code) and ``& < >`` become entities
    (no HTML), so the text reads exactly as written."""
    escaped = _PUNCTUATION.sub(r"\\\1", text)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_answer(answer: Answer, turn: int) -> str:
    """The answer for the chat: the short answer in bold when there is one, then each sentence
    escaped, its [n] linking to its source card, and marked verified (✓) or not found in the
    sources (greyed, with the words kept). A written answer replaced by a refusal, or by the
    selector's sentences, says so."""
    tag = ""
    if answer.time != "plain":  # what the question asked about time, as the assistant read it
        label = escape_markdown(answer.time)
        tag = f'<span class="time-tag" title="what the question asks about time">{label}</span>\n\n'
    note = f'\n\n<span class="time-note">{escape_markdown(answer.note)}</span>' if answer.note else ""
    if answer.timeline:  # one dated line per report
        lines = []
        for line in answer.timeline:
            sentence = next((s for s in answer.sentences if s.text == line.text), None)
            flag = (
                ' <span class="verified" title="supported by the cited passage">✓</span>'
                if sentence and sentence.verified
                else ""
            )
            link = f"[\\[{line.marker}\\]](#{anchor(turn, line.marker)})"
            lines.append(f"**{escape_markdown(day_label(line.day))}** — {escape_markdown(line.text)} {link}{flag}")
        return tag + "\n\n".join(lines) + note
    if not answer.sentences:
        text = tag + escape_markdown(answer.text) + note
        if answer.draft:  # what was streamed is not silently swapped: say why it is gone
            text += (
                '\n\n<span class="unverified">The model\'s answer was not found in the articles; its words are '
                "in the sources panel.</span>"
            )
        return text
    parts = []
    if answer.short:
        link = f"[\\[{answer.short.marker}\\]](#{anchor(turn, answer.short.marker)})"
        parts.append(f"**{escape_markdown(answer.short.text)}** {link}\n\n")
    for s in answer.sentences:
        links = "".join(f"[\\[{n}\\]](#{anchor(turn, n)})" for n in s.markers)
        if s.verified:
            flag = ' <span class="verified" title="supported by the cited passage">✓</span>'
            parts.append(f"{escape_markdown(s.text)} {links}{flag}".strip())
        else:
            flag = (
                ' <span class="unverified" title="no retrieved passage supports this">(not found in the sources)</span>'
            )
            parts.append(f'<span class="unverified-text">{escape_markdown(s.text)}</span> {links}{flag}'.strip())
    if answer.fallback:
        parts.append(
            '\n\n<span class="unverified">The model\'s own answer could not be checked against the articles; '
            "these are the sentences that most likely answer, from the articles.</span>"
        )
    return tag + " ".join(parts) + note


def day_label(day: str) -> str:
    """ "3 Mar 2026" for "2026-03-03" (as given when it is no ISO day)."""
    try:
        d = datetime.date.fromisoformat(day[:10])
    except ValueError:
        return day
    return f"{d.day} {d:%b %Y}"


def render_writing(text: str) -> str:
    """An answer being written: its words so far, and a note that they are checked when done."""
    note = '<span class="unverified">(being written; each sentence is checked against the articles when done)</span>'
    return f"{escape_markdown(text)} {note}" if text else f"… {note}"


def header_text(info: AssistantInfo) -> str:
    return (
        "## News assistant\nAsk about the loaded articles. Every sentence of an answer "
        "cites its passage; open the sources on the right to check it.\n\n"
        f"Answers: **{html.escape(engine_label(info))}** · "
        f"<span id='article-count'>{counted(info.articles, 'article')} loaded</span>"
    )


def engine_label(info: AssistantInfo) -> str:
    """Who answers, in words a reader knows: no model, or the model's file or name."""
    if info.engine == "extractive":
        return "sentences from the articles (no model)"
    model = str(info.model).rsplit("/", 1)[-1].removesuffix(".gguf")
    return f"written by {model}"
