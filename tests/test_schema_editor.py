"""The schema in a real editor's language server: yaml-language-server over LSP (stdio, JSON-RPC).

The server is installed from npm into the test's own temporary folder; the test is skipped where
node or npm is absent (CI has both).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
SCHEMA = ROOT / "schema" / "convcalc-spec.schema.json"
YLS = "yaml-language-server@1"
# Lines 0-6; line 3 has a good shorthand, 4 a misspelt kind, 5 a kind in a wrong form, 6 an empty item.
SPEC = "input: 32x32x3\nlayers:\n  - conv3-64 p1\n  - covn3-64\n  - maxpool 2\n  - \n"

pytestmark = [
    pytest.mark.slow,  # npm install, then a node server (~10 s)
    pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm"),
]


class Client:
    """A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin and stdout."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.count = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        while True:
            length = 0
            while line := out.readline().decode("ascii").strip():
                key, _, value = line.partition(":")
                if key.lower() == "content-length":
                    length = int(value)
            if not length:
                return
            self.inbox.put(json.loads(out.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.count += 1
        ident = self.count
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m)["result"]

    def wait(self, wanted: Any, timeout: float = 60) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            message = self.inbox.get(timeout=max(0.1, end - time.monotonic()))
            if "method" in message and "id" in message:  # the server asks for settings
                items = message["params"].get("items", [])
                settings = {"validate": True, "hover": True, "completion": True}
                result = [settings] * len(items) if message["method"] == "workspace/configuration" else None
                self.send({"id": message["id"], "result": result})
            elif wanted(message):
                return message

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.reader.join(timeout=10)  # it ends at the end of the server's output
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("yls")
    npm = [str(shutil.which("npm")), "install", "--no-audit", "--no-fund", "--silent", YLS]
    subprocess.run(npm, cwd=folder, check=True, capture_output=True, timeout=300)
    script = folder / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    client = Client([str(shutil.which("node")), str(script), "--stdio"])
    client.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}})
    client.send({"method": "initialized", "params": {}})
    doc = folder / "net.yaml"
    text = f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n{SPEC}"
    doc.write_text(text, encoding="utf-8")
    opened = {"uri": doc.as_uri(), "languageId": "yaml", "version": 1, "text": text}
    client.send({"method": "textDocument/didOpen", "params": {"textDocument": opened}})
    yield client, doc.as_uri()
    client.close()


def test_diagnostics_are_sentences_once_each(server: Any) -> None:
    client, _uri = server
    published = client.wait(
        lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["diagnostics"]
    )
    by_line: dict[int, list[str]] = {}
    for d in published["params"]["diagnostics"]:
        by_line.setdefault(d["range"]["start"]["line"], []).append(d["message"])
    assert 3 not in by_line  # conv3-64 p1
    assert by_line[4] == [
        (
            "Not a layer kind: expected a layer in shorthand, whose first word is a kind (conv3-64, maxpool, "
            "fc-10, relu...), or a block."
        )
    ]
    (form,) = by_line[5]
    assert form.startswith("Not a layer in shorthand (the shorthand is conv<F>-<K> [s<S>]")
    assert form.endswith(
        "expected the shorthand of this kind of layer (conv3-64 s2 p1, maxpool3 s2, fc-10; docs/spec.md)."
    )
    assert all("[cC]" not in m for messages in by_line.values() for m in messages)


def test_completions_are_listed_once(server: Any) -> None:
    client, uri = server
    result = client.request(
        "textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": 6, "character": 4}}
    )
    labels = [item["label"] for item in (result["items"] if isinstance(result, dict) else result)]
    assert {"conv", "deconv", "maxpool", "fc", "residual", "parallel", "expect", "name"} <= set(labels)
    assert [label for label, n in Counter(labels).items() if n > 1] == []


def test_hover_on_a_shorthand_tells_of_the_shorthand(server: Any) -> None:
    client, uri = server
    hover = client.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": 6}}
    )
    text = hover["contents"]["value"]
    assert "A layer in shorthand: conv<F>-<K>" in text
    assert "call of a block" not in text
    examples = list(text.split("```yaml\n")[1:])
    assert len(examples) == len(set(examples)) <= 12
