"""Headless Chromium on a page served from 127.0.0.1: what ran in it, and what it tried to load.

For tests that render something a user's browser would show (Markdown turned into HTML, an SVG):
`visit(body)` serves a page holding `body` from a local server and loads it in Debian's chromium
(`--headless=new --dump-dom`, no browser download, no driver). What comes back:

- `ran`: how many times the page's canary `ran()` was called. A test's payloads call it
  (`<script>ran()</script>`, `<img src=x onerror=ran()>`): a payload that executes is counted.
- `remote`: every request for anything but the local server. The server is also Chromium's proxy
  (`--proxy-server`; loopback is never proxied), so a load from any other host, by name or by
  address, http or https, reaches it and is recorded without leaving the machine; the host
  resolver maps every other name to nothing as well, for what a proxy would not carry.
- `background`: the requests Chromium makes on its own (its updater, its sign-in probe), which
  its flags do not stop; they never leave the machine either.
- `local`: the paths of the requests to the local server (the page, and a relative `src=x`).
- `probe`: what the page's own script found after load (`cells`: each table row's cells' text;
  `elements`: how many elements of each tag are in the body).

Chromium's own background traffic is switched off by its flags; a test that asserts `remote ==
[]` would see it, with its URL, if a flag stopped working.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

CHROMIUM = "/usr/bin/chromium"

# The page's own script, first in <head>: the canary, and after load (and a pause for timers and
# toggle events) a probe written into the DOM, which --dump-dom then prints.
_HEAD = """<script>
window.__ran = 0;
window.ran = function () { window.__ran += 1; };
addEventListener("load", function () {
  setTimeout(function () {
    var cells = Array.from(document.querySelectorAll("tr"), function (tr) {
      return Array.from(tr.cells, function (c) { return c.textContent; });
    });
    var elements = {};
    document.body.querySelectorAll("*").forEach(function (e) {
      var tag = e.tagName.toLowerCase();
      elements[tag] = (elements[tag] || 0) + 1;
    });
    var probe = document.createElement("pre");
    probe.id = "convcalc-probe";
    probe.textContent = JSON.stringify({ran: window.__ran, cells: cells, elements: elements});
    document.documentElement.appendChild(probe);
  }, 500);
});
</script>"""
_PROBE = re.compile(r'<pre id="convcalc-probe">(.*?)</pre>', re.DOTALL)
# Chromium's own traffic off: updates, sync, metrics, safe browsing, the first run's pages.
_QUIET = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-pings",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
)
# What Chromium 156 still asks its vendor for with every flag above (the component updater's
# check, the sign-in probe): the browser's own, whatever the page holds. They reach the local
# proxy and stop there; `Visit.background` lists them, and they are no remote load of the page.
_BACKGROUND = ("update.googleapis.com", "accounts.google.com", "clients2.google.com")


def chromium_or_skip() -> str:
    """The browser's path; the test is skipped where it is absent, unless CI is set (then it fails)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
        pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
    pytest.skip(f"no {CHROMIUM} (apt-get install chromium)")
    return ""  # pragma: no cover - skip raises


@dataclass
class Visit:
    """What a page did in the browser."""

    ran: int
    remote: list[str]
    background: list[str]
    local: list[str]
    probe: dict[str, Any]
    dom: str = field(repr=False)


class _Recorder(BaseHTTPRequestHandler):
    page: ClassVar[bytes] = b""
    origin: ClassVar[str] = ""
    requests: ClassVar[list[tuple[str, str, str]]] = []

    def _record(self) -> None:
        self.requests.append((self.command, self.path, self.headers.get("Host", "")))
        local = self.headers.get("Host", "") == self.origin and not self.path.startswith(("http:", "https:"))
        if local and self.command == "GET" and self.path == "/":
            body, status, kind = self.page, 200, "text/html; charset=utf-8"
        else:
            body, status, kind = b"", 404, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_CONNECT = _record  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: the requests are recorded, not logged."""


def document(body: str, title: str = "convcalc") -> str:
    """An HTML document around `body`, with the canary and the probe in its head."""
    head = f'<meta charset="utf-8"><title>{title}</title>{_HEAD}'
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def visit(body: str, *, timeout: float = 60) -> Visit:
    """Load a page holding `body` in headless Chromium, served from 127.0.0.1; see the module."""
    browser = chromium_or_skip()

    class Recorder(_Recorder):
        requests: ClassVar[list[tuple[str, str, str]]] = []
        page: ClassVar[bytes] = document(body).encode()

    handler = Recorder
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.origin = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [
                    browser,
                    "--headless=new",
                    "--no-sandbox",  # as root in a container
                    "--disable-gpu",
                    *_QUIET,
                    f"--user-data-dir={profile}",
                    f"--proxy-server=http://{handler.origin}",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "--virtual-time-budget=5000",
                    "--dump-dom",
                    f"http://{handler.origin}/",
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "HOME": profile},
            )
    finally:
        server.shutdown()
        server.server_close()
    found = _PROBE.search(done.stdout)
    assert found, f"chromium gave no probe (exit {done.returncode}): {done.stderr[-2000:]}"
    probe = json.loads(html.unescape(found.group(1)))
    remote: list[str] = []
    background: list[str] = []
    local: list[str] = []
    for method, path, host in handler.requests:
        if host == handler.origin and not path.startswith(("http:", "https:")):
            local.append(path)
        else:
            own = host.rsplit(":", 1)[0] in _BACKGROUND
            (background if own else remote).append(f"{method} {path} (Host: {host})")
    return Visit(probe["ran"], remote, background, local, probe, done.stdout)
