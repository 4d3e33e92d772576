"""The page in headless Chromium: time to the first result, and per update, for vgg16 and densenet121.

    python benchmarks/web.py [--updates N]

Builds the site (the runtime's tarball must be in the cache: `python -m convcalc.web fetch`),
serves it from 127.0.0.1 and opens it with Debian's chromium and chromedriver (Selenium). For
each spec: a fresh page load with the spec in the link, timed by the page itself
(`window.convcalc.timings`: `loaded`, the runtime and the wheels ready; `first`, the spec's first
result shown, both from the script's start), then N edits of the editor's text, each timed from
the edit to the result shown (`update()` in the page, which computes and renders). The targets
(issue 28): the first result within a few seconds, each update within 200 ms for the lecture's
networks.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from convcalc.builtins import specs_dir
from convcalc.web.build import build

SPECS = ("vgg16", "densenet121")


def _serve(site: Path) -> ThreadingHTTPServer:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _driver(profile: str) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _measure(driver: Any, url: str, name: str, updates: int) -> dict[str, float]:
    text = Path(specs_dir(), f"{name}.yaml").read_text(encoding="utf-8")
    driver.get("about:blank")
    driver.get(url + "#spec=" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))  # its first result
    while driver.execute_script("return document.body && document.body.dataset.ready") != "true":
        time.sleep(0.05)
    timings = driver.execute_script("return window.convcalc.timings")
    took = [
        driver.execute_script(
            "const e = document.getElementById('spec'); e.value = arguments[0];"
            "const t0 = performance.now(); window.convcalc.update(); return performance.now() - t0;",
            f"{text}\n# edit {i}\n",
        )
        for i in range(updates)
    ]
    return {"loaded": timings["loaded"], "first": timings["first"], "update": statistics.median(took)}


def main() -> int:
    """Print the table of docs/web.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build(site)
        httpd = _serve(site)
        driver = _driver(str(Path(tmp) / "profile"))
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        try:
            print("| spec | runtime ready | first result | update (median) |")
            print("|---|---:|---:|---:|")
            for name in SPECS:
                m = _measure(driver, url, name, args.updates)
                print(f"| {name} | {m['loaded']:.0f} ms | {m['first']:.0f} ms | {m['update']:.0f} ms |")
        finally:
            driver.quit()
            httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
