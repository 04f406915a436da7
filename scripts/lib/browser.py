"""The live view in a real browser: Debian's headless Chromium, driven by Playwright for Python.

usage: browser.py BASE_URL OUT_DIR

Loads the page the display component serves at BASE_URL, sends text through its form, and checks
that within 1 s of the answer the picture in the page equals the panel's frame pixel for pixel (the
page's <img> drawn onto a canvas, against the glass the provider reads back in GET /panels?ascii=1);
then does the same for a change from another source (a plain HTTP POST, as curl or wash call would
send). Counts the 304s of the page's polling (an unchanged panel costs a 304, no picture). Saves a
screenshot to OUT_DIR/live-view.png. Last, sends a ticker through the form and sees the page's
picture move. Prints one line per check; exit 1 when one failed.
"""

import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("OLED_CHROMIUM", "/usr/bin/chromium")

# The picture in the page, as text art: the <img> at its natural size on a canvas, lit where bright.
PAGE_ASCII = """(id) => {
  const img = document.getElementById(id);
  if (!img || !img.complete || !img.naturalWidth) return null;
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const rows = [];
  for (let y = 0; y < c.height; y++) {
    let r = "";
    for (let x = 0; x < c.width; x++) r += d[(y * c.width + x) * 4] > 127 ? "#" : ".";
    rows.push(r);
  }
  return rows.join("\\n");
}"""


def listing(base):
    with urllib.request.urlopen(base + "/panels?ascii=1", timeout=10) as r:
        return {p["name"]: p for p in json.load(r)["panels"]}


def post(base, name, text):
    req = urllib.request.Request(base + "/panels/" + name, data=text.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def wait_same(page, base, name, text, limit=1.0):
    """Seconds until the page's picture of NAME equals the panel's glass showing TEXT, or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        panel = listing(base).get(name, {})
        want = (panel.get("ascii") or "").rstrip("\n")
        got = page.evaluate(PAGE_ASCII, "glass-" + name)
        if panel.get("shows") == text and got is not None and got == want:
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def main():
    base, out = sys.argv[1].rstrip("/"), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    failed = 0

    def check(ok, what):
        nonlocal failed
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        failed += 0 if ok else 1

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(base + "/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('img.glass')].some(i => i.naturalWidth > 0)",
            timeout=10_000,
        )
        name = page.eval_on_selector("#target", "s => s.value")
        check(page.title().startswith("oled-lattice"), f"GET / in a browser is the live view (panel `{name}`)")

        text = f"Browser {int(time.time()) % 10000}"
        page.fill("#text", text)
        page.select_option("#font", "auto")
        page.click("#send")
        page.wait_for_function(
            "() => document.getElementById('answer').textContent.includes('HTTP')", timeout=10_000
        )
        answer = page.inner_text("#answer")
        took = wait_same(page, base, name, text)
        check(
            answer.endswith("HTTP 200") and took is not None,
            f"the form shows `{text}`: {answer}; the page's picture equals the panel's glass "
            + (f"after {took:.2f} s" if took is not None else "NOT within 1 s"),
        )

        other = f"curl {int(time.time()) % 10000}"
        status = post(base, name, other)
        took = wait_same(page, base, name, other)
        check(
            status == 200 and took is not None,
            f"a change from another source (HTTP POST) reaches the page "
            + (f"after {took:.2f} s" if took is not None else "NOT within 1 s"),
        )
        shot = os.path.join(out, "live-view.png")
        page.screenshot(path=shot, full_page=True)
        print(f"info  screenshot: {shot}")
        time.sleep(1.0)
        polls = page.evaluate("() => window.oledPolls")
        check(
            polls.get("304", 0) > 0 and polls.get("200", 0) >= 3,
            f"polling an unchanged panel costs a 304 (the page's polls by status: {polls})",
        )

        # A ticker sent through the form: the provider moves it, and the page's picture follows.
        page.fill("#text", "A ticker from the browser, moved by the panel's provider")
        page.check("#ticker")
        page.click("#send")
        page.wait_for_function(
            "() => document.getElementById('answer').textContent.includes('HTTP')", timeout=10_000
        )
        answer = page.inner_text("#answer")
        seen = set()
        start = time.monotonic()
        while time.monotonic() - start < 1.5:
            got = page.evaluate(PAGE_ASCII, "glass-" + name)
            if got:
                seen.add(got)
            time.sleep(0.1)
        shot = os.path.join(out, "live-view-ticker.png")
        page.screenshot(path=shot, full_page=True)
        print(f"info  screenshot of the ticker: {shot}")
        check(
            answer.endswith("HTTP 200") and len(seen) >= 3,
            f"a ticker through the form moves on the page: {answer}; {len(seen)} different pictures in 1.5 s",
        )
        page.uncheck("#ticker")
        post(base, name, "still")
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
