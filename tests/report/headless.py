"""Open report pages in headless Chromium over the DevTools protocol and say what happened.

Used by the tests that check that customer-supplied names stay inert in a browser: no JavaScript dialog
opens, no element the data injected is in the DOM, and no request leaves for another host.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--remote-debugging-port=0", "--remote-allow-origins=*")
#: JavaScript run in each page once loaded: elements the hostile names would have created
PROBE = """(() => ({
  injected_img: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
  onerror_attrs: document.querySelectorAll('[onerror]').length,
  alert_scripts: [...document.scripts].filter(s => s.textContent.includes('alert(')).length,
  text: document.body ? document.body.innerText.length : 0,
}))()"""


class Browser:
    """A headless Chromium driven over one DevTools websocket (``websocket-client``)."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        import websocket

        if CHROMIUM is None:
            raise RuntimeError("no chromium executable")
        self.profile = tempfile.mkdtemp(prefix="crm-chromium-")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        url = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            if "DevTools listening on" in line:
                url = line.split("DevTools listening on", 1)[1].strip()
                break
        if url is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools endpoint")
        self.ws = websocket.create_connection(url, timeout=timeout)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> Any:
        """Send one command and return its result (events received meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("method") == "Page.javascriptDialogOpening":  # never leave a dialog blocking the page
            self.ws.send(json.dumps({"id": 10**9 + len(self.events), "method": "Page.handleJavaScriptDialog",
                                     "params": {"accept": False}, "sessionId": event.get("sessionId")}))

    def visit(self, path: Path, *, settle: float = 1.5) -> dict[str, Any]:
        """Load ``path`` in a fresh tab; return the dialogs opened, outside requests and the DOM probe."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        first = len(self.events)
        self.send("Page.enable", session=session)
        self.send("Network.enable", session=session)
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
        deadline = time.monotonic() + 60
        loaded = False
        self.ws.settimeout(0.5)
        try:
            while time.monotonic() < deadline:
                try:
                    self._event(json.loads(self.ws.recv()))
                except Exception as err:  # websocket timeout: nothing new
                    if type(err).__name__ != "WebSocketTimeoutException":
                        raise
                mine = [e for e in self.events[first:] if e.get("sessionId") == session]
                if not loaded and any(e.get("method") == "Page.loadEventFired" for e in mine):
                    loaded = True
                    deadline = time.monotonic() + settle  # give timers and late scripts a moment
        finally:
            self.ws.settimeout(60)
        probe = self.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                          session=session)["result"]["value"]
        mine = [e for e in self.events[first:] if e.get("sessionId") == session]
        self.send("Target.closeTarget", {"targetId": target})
        requests = [e["params"]["request"]["url"] for e in mine if e.get("method") == "Network.requestWillBeSent"]
        return {"loaded": loaded,
                "dialogs": [e["params"].get("message") for e in mine
                            if e.get("method") == "Page.javascriptDialogOpening"],
                "outside_requests": [u for u in requests if not u.startswith(("file:", "data:", "about:", "blob:"))],
                **probe}

    def evaluate(self, path: Path, expression: str, *, timeout: float = 60.0) -> Any:
        """Load ``path`` in a fresh tab, evaluate ``expression`` (awaiting a promise) and return its value."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                state = self.send("Runtime.evaluate", {"expression": "location.protocol + document.readyState",
                                                       "returnByValue": True}, session=session)
                if state.get("result", {}).get("value") == "file:complete":
                    break
                time.sleep(0.1)
            result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                    "returnByValue": True, "timeout": timeout * 1000},
                               session=session)
            if "exceptionDetails" in result:
                raise RuntimeError(str(result["exceptionDetails"]))
            return result["result"].get("value")
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        """Stop Chromium (its whole process group) and remove its profile."""
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
