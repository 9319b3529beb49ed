#!/usr/bin/env python3
"""Open capsim's report pages in headless Chromium and check what a reader sees.

Usage: check_reports.py [--screenshot PNG] REPORT_DIR...

Each REPORT_DIR holds a report.html written by `capsim run MODEL --all-scenarios --report DIR`.
For each page, in a real browser (Chromium driven over the DevTools protocol on a pipe, so no
port and no third-party package):
  - the page renders with no console error and no uncaught exception;
  - it makes no request outside its own directory (no external URL, no other file);
  - the answer is in the rendered DOM: one headline per run (baseline and each scenario), and
    the verdict matrix with one row per SLO objective when the model states SLOs;
  - with its details collapsed (as it opens) the page is at most 8 screens tall (a screen is
    the 1400 x 900 viewport) and report.html is under 1 MB.
It prints one line per page with the measured height and size, and exits 1 naming every claim
that failed. --screenshot writes a PNG of the top screen of the first page.
"""

import base64
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

WIDTH, SCREEN = 1400, 900
MAX_SCREENS = 8
MAX_BYTES = 1_000_000
TIMEOUT_S = 60


class Browser:
    """Headless Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it)."""

    def __init__(self, executable):
        self.profile = tempfile.mkdtemp(prefix="capsim-chromium-")
        to_child, self._to = os.pipe()
        self._from, from_child = os.pipe()

        def wire():
            # Through copies numbered 10 or more, so that neither end lands on the other's
            # number first (and dup2 onto itself would leave the close-on-exec flag set).
            reading = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            writing = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{SCREEN}",
                "about:blank",
            ],
            preexec_fn=wire,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        """Call `method` and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, session):
        """Wait for event `method` of `session` (it may have arrived already)."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def open_page(browser, url):
    """A new tab with console, network and page events on, navigated to `url` and loaded."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Network", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": SCREEN, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    browser.events.clear()
    browser.send("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired", session)
    return session


def evaluate(browser, session, expression):
    result = browser.send(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
    )
    if "exceptionDetails" in result:
        raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
    return result["result"].get("value")


def expected_runs(report_dir):
    """Runs and SLO objectives of the report, from its results.json: (runs, objectives)."""
    results = json.loads((report_dir / "results.json").read_text())
    if "baseline" in results:
        runs = 1 + len(results.get("scenarios", []))
        slos = len(results["baseline"].get("slos", []))
    else:
        runs = 1
        slos = len(results.get("slos", []))
    return runs, slos


def check(browser, report_dir, screenshot=None):
    """The claims about one report page; returns the failures (empty when it passed)."""
    page = (report_dir / "report.html").resolve()
    size = page.stat().st_size
    own = page.parent.as_uri() + "/"
    session = open_page(browser, page.as_uri())
    failures = []
    runs, objectives = expected_runs(report_dir)
    headlines = evaluate(browser, session, "document.querySelectorAll('#answer li.headline').length")
    matrix_rows = evaluate(
        browser,
        session,
        "document.querySelectorAll('table.verdict-matrix tr').length - (document.querySelector('table.verdict-matrix') ? 1 : 0)",
    )
    collapsed = evaluate(browser, session, "[...document.querySelectorAll('details')].every(d => !d.open)")
    height = evaluate(browser, session, "document.documentElement.scrollHeight")
    if headlines != runs:
        failures.append(f"{headlines} headlines in the rendered page, expected one per run ({runs})")
    if matrix_rows != objectives:
        failures.append(f"the verdict matrix has {matrix_rows} rows, expected one per SLO objective ({objectives})")
    if not collapsed:
        failures.append("some details are open when the page opens")
    if height > MAX_SCREENS * SCREEN:
        failures.append(f"{height} px tall with details collapsed, more than {MAX_SCREENS} screens of {SCREEN} px")
    if size >= MAX_BYTES:
        failures.append(f"report.html is {size} bytes, not under {MAX_BYTES}")
    for event in browser.events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            failures.append(f"uncaught exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            failures.append(f"console error: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            failures.append(f"console error: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not (url == page.as_uri() or url.startswith("data:") or url.startswith(own)):
                failures.append(f"request outside the report's directory: {url}")
    if screenshot:
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
        pathlib.Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
    print(f"{report_dir}: {runs} run(s), {objectives} SLO objective(s), {height} px tall ({height / SCREEN:.1f} screens), {size} bytes")
    return failures


def main(argv):
    screenshot = None
    if argv[:1] == ["--screenshot"]:
        screenshot, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        print("check_reports.py: no chromium on PATH (Debian's package: chromium)", file=sys.stderr)
        return 2
    browser = Browser(executable)
    failed = 0
    try:
        for i, directory in enumerate(argv):
            failures = check(browser, pathlib.Path(directory), screenshot if i == 0 else None)
            for failure in failures:
                print(f"  FAILED {directory}: {failure}")
            failed += bool(failures)
    finally:
        browser.close()
    print(f"{len(argv) - failed} of {len(argv)} report pages passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
