"""Firefox for the browser tests, driven over WebDriver BiDi (no geckodriver is packaged in Debian).

Firefox ESR under Xvfb (headless Firefox gives no WebGL) with ``--remote-debugging-port``; a
websocket (websocket-client, which Selenium already depends on) carries BiDi's JSON commands.
``FirefoxPage`` has the methods of ``page.BasePage``, so the same checks run in both browsers.
Every process started here (Xvfb, Firefox) is ended by ``Firefox.close``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.browser.page import BasePage

PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.aboutwelcome.enabled": False,
    # Xvfb has no GPU: Mesa's software GL, which Firefox would otherwise block for WebGL.
    "webgl.force-enabled": True,
}


def find() -> tuple[str, str] | None:
    """(firefox, Xvfb) paths, or None where either is missing."""
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    xvfb = shutil.which("Xvfb")
    return (firefox, xvfb) if firefox and xvfb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Firefox:
    """One Xvfb display and one Firefox on it, with a BiDi session; ``close`` ends both."""

    def __init__(self, firefox: str, xvfb: str, *, webgl: bool = True, width: int = 1400, height: int = 900):
        import websocket

        self.procs: list[subprocess.Popen] = []
        self.profile = tempfile.mkdtemp(prefix="gnnviz-firefox-")
        self.events: list[dict] = []
        self._ids = itertools.count(1)
        try:
            display = self._start_xvfb(xvfb, width, height)
            prefs = {**PREFS, "webgl.disabled": not webgl}
            Path(self.profile, "user.js").write_text(
                "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
            )
            port = _free_port()
            env = {**os.environ, "DISPLAY": display, "MOZ_CRASHREPORTER_DISABLE": "1"}
            log = open(Path(self.profile, "stderr.log"), "wb")  # noqa: SIM115 - closed with the process
            self.procs.append(
                subprocess.Popen(
                    [firefox, "--no-remote", "--new-instance", "--profile", self.profile, f"--remote-debugging-port={port}",
                     "--width", str(width), "--height", str(height), "about:blank"],
                    env=env, stdout=subprocess.DEVNULL, stderr=log,
                )
            )  # fmt: skip
            end = time.monotonic() + 60
            while True:
                try:
                    # No Origin header: Firefox refuses a BiDi handshake that carries one.
                    self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/session", timeout=60, suppress_origin=True)
                    break
                except OSError:
                    if time.monotonic() > end or self.procs[-1].poll() is not None:
                        raise RuntimeError("Firefox did not open its WebDriver BiDi port") from None
                    time.sleep(0.2)
            self.command("session.new", {"capabilities": {}})
            self.command("session.subscribe", {"events": ["log.entryAdded"]})
            self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
            self.command("browsingContext.setViewport", {"context": self.context, "viewport": {"width": width, "height": height}})
        except BaseException:
            self.close()
            raise

    def _start_xvfb(self, xvfb: str, width: int, height: int) -> str:
        # -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
        read, write = os.pipe()
        proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.procs.append(proc)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not re.fullmatch(r"\d+", number):
            raise RuntimeError("Xvfb did not start")
        return f":{number}"

    def command(self, method: str, params: dict) -> dict:
        cid = next(self._ids)
        self.ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("type") == "event":
                self.events.append(msg)
            elif msg.get("id") == cid:
                if msg.get("type") == "error":
                    raise RuntimeError(f"BiDi {method}: {msg.get('error')}: {msg.get('message')}")
                return msg["result"]

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                self.command("browser.close", {})
            except Exception:  # noqa: BLE001 - Firefox may already be gone; the processes are ended below
                pass
            ws.close()
        for proc in reversed(self.procs):
            _stop(proc)
        shutil.rmtree(self.profile, ignore_errors=True)


class FirefoxPage(BasePage):
    """``BasePage`` over BiDi."""

    name = "firefox"

    def __init__(self, browser: Firefox):
        self.browser = browser
        self.ctx = browser.context

    def open(self, url: str) -> None:
        self.browser.command("browsingContext.navigate", {"context": self.ctx, "url": url, "wait": "complete"})

    def js(self, script: str):
        expression = f"JSON.stringify((() => {{ {script}\n}})()) ?? 'null'"
        res = self.browser.command(
            "script.evaluate",
            {"expression": expression, "target": {"context": self.ctx}, "awaitPromise": False, "resultOwnership": "none"},
        )
        if res.get("type") == "exception":
            raise RuntimeError(f"script failed: {res['exceptionDetails'].get('text')}")
        return json.loads(res["result"]["value"])

    def console_errors(self) -> list[str]:
        self.js("return 0")  # collect events sent so far
        return [
            e["params"].get("text", "")
            for e in self.browser.events
            if e["method"] == "log.entryAdded" and e["params"].get("level") == "error"
        ]

    def png(self) -> bytes:
        return base64.b64decode(self.browser.command("browsingContext.captureScreenshot", {"context": self.ctx})["data"])

    def _actions(self, actions: list[dict]) -> None:
        self.browser.command("input.performActions", {"context": self.ctx, "actions": actions})

    def move_to(self, x: int, y: int, click: bool = False) -> None:
        steps = [{"type": "pointerMove", "x": int(x), "y": int(y), "origin": "viewport"}]
        if click:
            steps += [{"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]
        self._actions([{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": steps}])

    def click(self, css: str) -> None:
        x, y = self.js(
            f"const r = document.querySelector({css!r}).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]"
        )
        self.move_to(round(x), round(y), click=True)

    def select(self, element_id: str, value: str) -> None:
        self.js(f"const s = document.getElementById({element_id!r}); s.value = {value!r}; s.dispatchEvent(new Event('change'))")

    def _keys(self, text: str) -> None:
        keys = []
        for ch in text:
            key = "\ue007" if ch == "\n" else ch
            keys += [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        self._actions([{"type": "key", "id": "keyboard", "actions": keys}])

    def type_into(self, element_id: str, text: str) -> None:
        self.js(f"const e = document.getElementById({element_id!r}); e.value = ''; e.focus()")
        self._keys(text)

    def press_escape(self) -> None:
        self.js("document.activeElement && document.activeElement.blur()")
        self._keys("\ue00c")
