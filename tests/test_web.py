"""The page in a browser: the site built, served from 127.0.0.1, driven in Debian's headless Chromium.

Selenium drives Debian's chromium through Debian's chromedriver (paths given, so nothing is
downloaded). The server that serves the site is Chromium's proxy as well (as in tests/browser.py):
a request for any other host reaches it, is recorded and answered 404, and never leaves the
machine. The runtime's tarball must be in the cache (`python -m convcalc.web fetch`, which
.ci/run runs); the test itself fetches nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from browser import _BACKGROUND, _QUIET, chromium_or_skip  # type: ignore[import-not-found]  # tests/ is on sys.path
from click.testing import CliRunner

from convcalc.builtins import builtin_names, specs_dir
from convcalc.cli import main
from convcalc.web.build import build, cache_dir, tarball

if TYPE_CHECKING:
    from collections.abc import Iterator

webdriver = pytest.importorskip("selenium.webdriver")

pytestmark = pytest.mark.slow
CHROMEDRIVER = "/usr/bin/chromedriver"
# Where the screenshots are kept for a person to look at (ignored by git; docs/web.md shows them).
OUTPUT = Path(__file__).parent / "output" / "web"
_FEATURES_OFF = next(f for f in _QUIET if f.startswith("--disable-features=")).split("=", 1)[1].split(",")
# What Debian's chromium asks for by itself once a text field is typed in, whatever the page: its
# default search engine's preconnect and autofill's server (both stop at the local proxy).
_OWN = ("start.duckduckgo.com", "content-autofill.googleapis.com")
READY_S = 90  # a first load on a busy 2-core machine; about 5 s when idle (benchmarks/web.py)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in {"", "0", "false"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not tarball(cache_dir()).exists():
        why = f"no {tarball(cache_dir())}: `python -m convcalc.web fetch` puts it there"
        if _in_ci():
            pytest.fail(why)
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("site") / "site"
    build(folder)
    return folder


class _Site(SimpleHTTPRequestHandler):
    """The site's files for the local origin; anything else recorded (as a proxy) and refused."""

    origin: ClassVar[str] = ""
    remote: ClassVar[list[str]] = []

    def _other(self) -> None:
        host = self.headers.get("Host", "")
        if host.rsplit(":", 1)[0] not in (*_BACKGROUND, *_OWN):
            self.remote.append(f"{self.command} {self.path} (Host: {host})")
        self.send_error(404)

    def do_GET(self) -> None:
        if self.headers.get("Host", "") != self.origin or self.path.startswith(("http:", "https:")):
            self._other()
            return
        super().do_GET()

    do_POST = do_CONNECT = _other  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet."""


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[type[_Site]]:
    class Handler(_Site):
        remote: ClassVar[list[str]] = []

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.origin = f"127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Handler
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server: type[_Site], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = chromium_or_skip()
    if not Path(CHROMEDRIVER).exists():
        if _in_ci():
            pytest.fail(f"{CHROMEDRIVER} is missing in CI (.ci/run installs Debian's chromium-driver)")
        pytest.skip(f"no {CHROMEDRIVER} (apt-get install chromium-driver)")
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("profile")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://{server.origin}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        *(f for f in _QUIET if not f.startswith("--disable-features=")),
        # The browser's own traffic that typing and a text field start: autofill's server, the
        # search engine's preconnect, besides the features tests/browser.py turns off.
        "--disable-features=" + ",".join((*_FEATURES_OFF, "AutofillServerCommunication", "NetworkPrediction")),
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option(
        "prefs",
        {
            "net.network_prediction_options": 2,
            "autofill.profile_enabled": False,
            "search.suggest_enabled": False,
            "default_search_provider.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _open(driver: Any, url: str) -> None:
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if driver.execute_script("return document.body && document.body.dataset.ready") == "true":
            return
        status = driver.execute_script("return document.getElementById('status')?.textContent || ''")
        assert "could not start" not in status, status
        time.sleep(0.2)
    pytest.fail(f"the page was not ready in {READY_S} s")


def _updates(driver: Any) -> int:
    return int(driver.execute_script("return document.body.dataset.updates || '0'"))


def _wait_update(driver: Any, before: int) -> None:
    deadline = time.monotonic() + 30
    while _updates(driver) <= before:
        assert time.monotonic() < deadline, "no result after typing"
        time.sleep(0.1)


def _text(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{element_id}').textContent"))


def _page_loads(driver: Any, server: type[_Site]) -> list[str]:
    """Chromium's request log for the page since the last call: every URL not on the local server."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls, "Chromium logged no request"
    # The network's schemes; chrome:// pages are the browser's own (its first tab), never fetched.
    network = ("http:", "https:", "ws:", "wss:", "ftp:")
    return [u for u in urls if u.startswith(network) and not u.startswith(f"http://{server.origin}/")]


def _url(server: type[_Site], fragment: str = "") -> str:
    return f"http://{server.origin}/{fragment}"


def test_the_lecture_s_vgg16_typed_gives_its_rows_and_params_and_alexnet_at_224_its_stride_error(
    browser: Any, server: type[_Site]
) -> None:
    _open(browser, _url(server))
    editor = browser.find_element("id", "spec")
    editor.clear()
    before = _updates(browser)
    lecture = Path(specs_dir(), "vgg16.yaml").read_text(encoding="utf-8")
    editor.send_keys(lecture)  # typed, key by key, as a student would
    _wait_update(browser, before)
    deadline = time.monotonic() + 30
    while browser.find_element("id", "spec").get_attribute("value") != lecture or "22 rows" not in _text(
        browser, "summary"
    ):
        assert time.monotonic() < deadline, _text(browser, "summary")
        time.sleep(0.2)
    assert "138,357,544 params" in _text(browser, "summary")
    table = _text(browser, "table")
    assert len(re.findall(r"^ *\d+ +\S", table, re.MULTILINE)) == 22  # rows 0 (the input) to 21
    assert "138,357,544" in table
    checks = _text(browser, "checks")
    assert checks.count("✓") == 7
    assert "✗" not in checks

    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    Select(browser.find_element("id", "builtin")).select_by_value("alexnet")
    text = browser.find_element("id", "spec").get_attribute("value")
    assert "227x227x3" in text
    before = _updates(browser)
    browser.execute_script(
        "const e = document.getElementById('spec'); e.value = arguments[0];"
        "e.dispatchEvent(new Event('input', {bubbles: true}));",
        text.replace("227x227x3", "224x224x3"),
    )
    _wait_update(browser, before)
    checks = _text(browser, "checks")
    assert "error:" in checks
    assert "does not fit" in checks
    assert "not ok" in _text(browser, "summary")
    assert _page_loads(browser, server) == []
    assert server.remote == []


def test_the_calculator_works_the_lecture_s_example_and_a_worksheet_link_shows_its_checks(
    browser: Any, server: type[_Site]
) -> None:
    _open(browser, _url(server))
    lecture = _text(browser, "calc-result")  # the default is the lecture's example
    assert "32x32x3 → 32x32x10" in lecture
    assert "params = (5·5·3 + 1)·10 = 760" in lecture
    layers = browser.find_element("id", "calc-layers")
    layers.clear()
    layers.send_keys("conv5-10 s1 p?")
    browser.find_element("css selector", "#calc-form button").click()
    result = _text(browser, "calc-result")
    assert "P = 2 → 32x32x10" in result
    assert "keeps the size" in result

    sheet = "input: 32x32x3\nlayers:\n  - layer: conv5-10 s1 p2\n    expect: {output: 32x32x10, params: 760}\n"
    sheet += "  - layer: maxpool\n    expect: {output: 15x15x10}\n"
    fragment = "#spec=" + base64.urlsafe_b64encode(sheet.encode()).decode().rstrip("=")
    _open(browser, _url(server, fragment))
    assert browser.find_element("id", "spec").get_attribute("value") == sheet
    assert "Worksheet" in _text(browser, "status")
    checks = _text(browser, "checks")
    assert checks.count("✓") == 2
    assert checks.count("✗") == 1
    assert "line 6: ✗" in checks
    assert "answered 15x15x10" in checks
    assert _page_loads(browser, server) == []
    assert server.remote == []


def test_the_page_computes_what_show_computes_for_every_builtin(browser: Any, server: type[_Site]) -> None:
    _open(browser, _url(server))
    for name in builtin_names():
        in_page = browser.execute_script("return window.convcalc.call('report_json', arguments[0])", name)
        shown = CliRunner().invoke(main, ["show", name, "--format", "json"])
        assert json.loads(shown.stdout) == in_page, name
    assert _page_loads(browser, server) == []
    assert server.remote == []


_OVERFLOW = """
const width = document.documentElement.clientWidth;
const out = [];
for (const e of document.body.querySelectorAll('*')) {
  let inside = false;  // within a box that scrolls its own content (a wide table)
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) { inside = true; break; }
  }
  const r = e.getBoundingClientRect();
  if (!inside && r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) out.push(e.tagName + '#' + e.id);
}
return {width: width, scroll: document.documentElement.scrollWidth, out: out};
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_and_nothing_overflows_a_phone_s_width(browser: Any, server: type[_Site], width: int) -> None:
    browser.set_window_size(width, 900)
    try:
        _open(browser, _url(server))
        OUTPUT.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(OUTPUT / f"page-{width}.png"))
        found = browser.execute_script(_OVERFLOW)
        assert found["width"] <= width
        assert found["scroll"] <= found["width"], found
        assert found["out"] == [], found
    finally:
        browser.set_window_size(1280, 900)
