"""What every browser's page object does the same way, from its own ``js``, ``png`` and ``move_to``."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np


class BasePage:
    """The tests' view of one explorer tab. A browser backend gives ``js(script)`` (a function body
    run in the page, its result returned), ``png()`` (a screenshot of the viewport),
    ``move_to(x, y, click=False)`` (the mouse, in CSS pixels of the viewport), ``click(css)``,
    ``select(id, value)``, ``type_into(id, text)``, ``press_escape()`` and ``console_errors()``."""

    name = "browser"

    def wait_ready(self, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.js("return document.body && document.body.dataset.ready")
            if state:
                return state
            time.sleep(0.05)
        status = self.js("return document.getElementById('status').textContent")
        raise AssertionError(f"page not ready after {timeout} s; status: {status}")

    def screenshot(self, path: Path) -> None:
        Path(path).write_bytes(self.png())

    def pixels(self, element_id: str) -> np.ndarray:
        """The element as drawn: [H, W, 3] uint8, cut from a screenshot of the viewport."""
        from PIL import Image

        box = self.js(
            f"const r = document.getElementById({element_id!r}).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]"
        )
        image = Image.open(io.BytesIO(self.png())).convert("RGB")
        scale = image.width / self.js("return window.innerWidth")
        return np.asarray(image.crop(tuple(round(v * scale) for v in box)))

    def node_point(self, node: int, view: str = "graph") -> tuple[int, int]:
        p = self.js(f"return window.gnnvizExplorer.nodeOnPage({int(node)}, {view!r})")
        return round(p["x"]), round(p["y"])

    def move_to_node(self, node: int, view: str = "graph") -> None:
        self.move_to(*self.node_point(node, view))

    def click_node(self, node: int, view: str = "graph") -> None:
        self.move_to_node(node, view)  # hover first, as a user does: sigma sees the node entered
        self.move_to(*self.node_point(node, view), click=True)
