"""Open a page in real headless Chromium (Debian's `chromium`) over the DevTools protocol and
report what a person would see: console errors, every request, whether each image decodes,
and a full-page screenshot. A test helper; also runnable to make the example screenshot:

    python tests/report/chromium.py report.html report.png
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-port=0"]
IMAGES_JS = """(async () => {
  const out = [];
  for (const img of Array.from(document.images)) {
    let error = "";
    try { await img.decode(); } catch (e) { error = String(e); }
    out.push({alt: img.alt, error: error, width: img.naturalWidth, height: img.naturalHeight,
              src: img.getAttribute("src").slice(0, 30)});
  }
  return out;
})()"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@dataclass(frozen=True)
class PageCheck:
    console_errors: list[str]
    requests: list[str]
    images: list[dict]
    scripts: int  # <script> elements in the loaded document
    title: str
    screenshot: bytes
    seconds: float


class DevTools:
    """One headless Chromium and a flat-session DevTools connection to it."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900, timeout: float = 60) -> None:
        import websocket  # websocket-client

        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.log = open(Path(self.profile) / "stderr.log", "wb")
        self.proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self.profile}",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start: {(Path(self.profile) / 'stderr.log').read_text()[-2000:]}")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=timeout, suppress_origin=True)
        self.events: list[dict] = []
        self._id = 0
        self.width, self.height = width, height

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def check(self, page: Path) -> PageCheck:
        started = time.monotonic()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        self.send("Page.navigate", {"url": page.resolve().as_uri()}, session)
        self.wait_for("Page.loadEventFired")
        images = self.evaluate(IMAGES_JS, session)
        title = self.evaluate("document.title", session)
        scripts = self.evaluate("document.scripts.length", session)
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {
            "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}, session)
        return PageCheck(self._console_errors(), self._requests(), images, scripts, title, base64.b64decode(shot["data"]),
                         time.monotonic() - started)

    def evaluate(self, expression: str, session: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _console_errors(self) -> list[str]:
        errors = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def _requests(self) -> list[str]:
        return [e["params"]["request"]["url"][:80] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.send("Browser.close")
                except Exception:
                    pass
                self.ws.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


def check_page(page: Path, executable: str | None = None) -> PageCheck:
    browser = DevTools(executable or find_chromium() or "chromium")
    try:
        return browser.check(page)
    finally:
        browser.close()


if __name__ == "__main__":
    result = check_page(Path(sys.argv[1]))
    Path(sys.argv[2]).write_bytes(result.screenshot)
    print(json.dumps({"console_errors": result.console_errors, "images": result.images,
                      "requests": sorted({u.split(":", 1)[0] for u in result.requests}),
                      "seconds": round(result.seconds, 2)}, indent=1))
