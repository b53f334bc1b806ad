"""map.html in a real browser: headless Chromium driven through the DevTools
protocol.

The page must load with no console error, no exception, no dialog (the
hostile question's "<script>alert(1)" stays text) and no request but its
own file; hold one point per pair; highlight exactly the pairs a search
matches; hide exactly one label's pairs when its toggle is clicked (and one
cluster's); and show a pair's question when the pointer rests on its point.
Typing and clicking go through Chromium's input events (Input.insertText,
Input.dispatchMouseEvent), as a person's would; what is shown is read back
from the page (computed styles, attributes), and what should be shown is
worked out from the test's own pairs.

The DevTools protocol runs over --remote-debugging-pipe: JSON messages
ended by a NUL byte, read by Chromium on fd 3 and written on fd 4, so the
standard library suffices.  Every read has a deadline, so a hung browser
fails the test instead of hanging it.  Where Debian's chromium (installed
by `make test`'s set-up) is missing, the test skips and says so, or fails
under WEFT_REQUIRE_FIXTURES=1 or CI (.ci/run).
"""
import csv
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from tests import fixtures
from tests.integration.test_map import PARIS, rows

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
CHROMIUM = ("chromium", "chromium-browser")
STEP_TIMEOUT = 60  # seconds for any one DevTools answer or event
LABELS = ["Yes", "No"]  # answer_index 0 and 1 in test_map's rows


def find_chromium(testcase):
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    msg = "chromium not found (Debian's chromium package; `make deps-test` installs it)"
    if fixtures.required() or os.environ.get("CI", "") not in ("", "0", "false"):
        testcase.fail(msg + ", and WEFT_REQUIRE_FIXTURES=1 or CI makes that a failure")
    testcase.skipTest(msg)
    return None


class Browser:
    """A headless Chromium and one page in it, spoken to over the pipe."""

    def __init__(self, exe, profile):
        to_browser = os.pipe()    # we write [1], Chromium reads fd 3
        from_browser = os.pipe()  # Chromium writes fd 4, we read [0]
        args = [exe, "--headless", "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--no-pings", "--mute-audio", "--disable-dev-shm-usage",
                # no name resolves, so nothing can leave the machine
                "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses root otherwise

        def fds():
            # to fds 3 and 4 by way of high numbers, so neither overwrites
            # the other whatever numbers the pipes got
            r = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
        # its chatter goes to a file (a pipe nobody reads could fill and
        # stop it), shown when it fails
        self.log = os.path.join(profile, "chromium.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, preexec_fn=fds, close_fds=False,
                                         env=env, start_new_session=True)
        os.close(to_browser[0])
        os.close(from_browser[1])
        self.out, self.inp = to_browser[1], from_browser[0]
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close", session=False, timeout=10)
                except (AssertionError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            os.close(self.out)
            os.close(self.inp)

    def _read(self, deadline):
        """The next message, waiting until deadline at most."""
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("chromium did not answer within %d s" % STEP_TIMEOUT)
            ready, _, _ = select.select([self.inp], [], [], left)
            if ready:
                chunk = os.read(self.inp, 1 << 16)
                if not chunk:
                    with open(self.log, "rb") as f:
                        said = f.read()[-2000:].decode("utf-8", "replace")
                    raise AssertionError("chromium closed its pipe (exit status %s):\n%s"
                                         % (self.proc.poll(), said))
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=None):
        """Sends a command (to the page unless session is False) and returns
        its result; events that arrive meanwhile are kept in self.events."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or STEP_TIMEOUT)
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError("%s failed: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method):
        deadline = time.monotonic() + STEP_TIMEOUT
        for e in self.events:
            if e["method"] == method:
                return e
        while True:
            e = self._read(deadline)
            if "method" in e:
                self.events.append(e)
                if e["method"] == method:
                    return e

    def open(self, url):
        """Opens a page, attaches to it, listens to everything it logs and
        loads url."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(domain + ".enable")
        self.events = []
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expr):
        """The value of a JavaScript expression in the page."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise AssertionError("%s threw: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def problems(self, page_url):
        """What the page did wrong so far: console errors and warnings,
        uncaught exceptions, dialogs, requests for anything but itself."""
        bad = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                bad.append("exception: %s" % p["exceptionDetails"])
            elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning",
                                                                     "assert"):
                bad.append("console.%s: %s" % (p["type"], p["args"]))
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                bad.append("log: %s" % p["entry"])
            elif m == "Page.javascriptDialogOpening":
                bad.append("dialog: %s" % p.get("message"))
            elif m == "Network.requestWillBeSent" and p["request"]["url"] != page_url:
                bad.append("request: %s" % p["request"]["url"])
        return bad


# Each point as the page shows it: index, whether it is displayed, whether
# it is highlighted (outlined) as a search hit.
STATE = """Array.from(document.querySelectorAll('#map circle[data-i]')).map(function (c) {
  var s = getComputedStyle(c);
  return [+c.getAttribute('data-i'), s.display !== 'none',
          s.stroke !== 'none' && parseFloat(s.strokeWidth) > 0]; })"""


def centre(expr):
    """JavaScript that scrolls the element expr into view and gives its
    centre in the viewport, as [x, y]."""
    return ("(function () { var e = %s; e.scrollIntoView({block: 'center'});"
            " var r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()" % expr)


class MapBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        data = os.path.join(cls.tmp.name, "d.csv")
        with open(data, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["prompt", "classes", "answer_index"])
            for q, a in rows():
                w.writerow(["Question: %s \nAnswer:" % q, "[' Yes', ' No']", a])
        cls.out = os.path.join(cls.tmp.name, "out")
        p = subprocess.run([WEFT, "map", data, "--out", cls.out, "--clusters", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        cls.map_error = p.stderr.decode() if p.returncode else None
        cls.page = os.path.join(cls.out, "map.html")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.assertIsNone(self.map_error)
        exe = find_chromium(self)
        self.profile = tempfile.TemporaryDirectory()
        self.addCleanup(self.profile.cleanup)
        self.browser = Browser(exe, self.profile.name)
        self.addCleanup(self.browser.close)
        self.url = "file://" + self.page
        self.browser.open(self.url)

    def state(self):
        return self.browser.js(STATE)

    def assert_clean(self):
        self.assertEqual(self.browser.problems(self.url), [])

    def test_loads_with_one_point_per_pair(self):
        b = self.browser
        n = len(rows())
        self.assertEqual(b.js("document.title"), "weft map")
        self.assertEqual([i for i, _, _ in self.state()], list(range(n)))
        self.assertTrue(all(shown and not hit for _, shown, hit in self.state()))
        # the controls the script builds: a toggle per label and per cluster
        self.assertEqual(b.js("document.querySelectorAll('#labels input').length"), 2)
        self.assertEqual(b.js("document.querySelectorAll('#clusters input').length"), 2)
        self.assertEqual(b.js("document.querySelectorAll('#table tr').length"), 2)
        # the hostile question is text in the data, never markup that ran
        self.assertEqual(b.js("document.querySelectorAll('script').length"), 2)
        self.assertIn("</script><script>alert(1)</script>",
                      b.js("JSON.parse(document.getElementById('map-data').textContent)"
                           ".points.map(function (p) { return p.q; }).join('\\n')"))
        self.assert_clean()

    def test_search_highlights_matches(self):
        b = self.browser
        qs = [q for q, _ in rows()]
        for word in ("paris", "Deep Space", "DOES", "zzzz-nothing"):
            with self.subTest(word=word):
                b.js("document.getElementById('search').select()")  # typed over
                b.js("document.getElementById('search').focus()")
                b.call("Input.insertText", {"text": word})
                want = [i for i, q in enumerate(qs) if word.lower() in q.lower()]
                st = self.state()
                self.assertEqual([i for i, _, hit in st if hit], want)
                self.assertTrue(all(shown for _, shown, _ in st))
        self.assertEqual(len([q for q in qs if "paris" in q.lower()]), len(PARIS))
        # emptied, nothing is highlighted
        b.js("document.getElementById('search').select()")
        b.call("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "Backspace",
                                          "code": "Backspace", "windowsVirtualKeyCode": 8})
        b.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace",
                                          "code": "Backspace", "windowsVirtualKeyCode": 8})
        self.assertEqual(b.js("document.getElementById('search').value"), "")
        self.assertEqual([i for i, _, hit in self.state() if hit], [])
        self.assert_clean()

    def test_label_toggle_hides_that_label(self):
        b = self.browser
        labels = [a for _, a in rows()]
        for name, label in (("Yes", 0), ("No", 1)):
            with self.subTest(label=name):
                box = ("Array.from(document.querySelectorAll('#labels label')).filter("
                       "function (l) { return l.textContent.trim().endsWith(' %s'); })[0]"
                       ".querySelector('input')" % name)
                x, y = b.js(centre(box))
                b.click(x, y)
                self.assertFalse(b.js(box + ".checked"))
                st = self.state()
                self.assertEqual([i for i, shown, _ in st if not shown],
                                 [i for i, a in enumerate(labels) if a == label])
                b.click(x, y)
                self.assertTrue(b.js(box + ".checked"))
                self.assertTrue(all(shown for _, shown, _ in self.state()))
        self.assert_clean()

    def test_cluster_toggle_and_search_together(self):
        b = self.browser
        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            cluster = [int(r["cluster"]) for r in csv.DictReader(f)]
        paris = cluster[0]
        x, y = b.js(centre("document.querySelectorAll('#clusters input')[%d]" % (paris - 1)))
        b.click(x, y)
        b.js("document.getElementById('search').focus()")
        b.call("Input.insertText", {"text": "space"})
        st = self.state()
        self.assertEqual([i for i, shown, _ in st if not shown],
                         [i for i, c in enumerate(cluster) if c == paris])
        self.assertEqual([i for i, _, hit in st if hit],
                         [i for i, (q, _) in enumerate(rows()) if "space" in q.lower()])
        self.assert_clean()

    def test_hover_shows_the_question(self):
        b = self.browser
        qs = [q for q, _ in rows()]
        self.assertEqual(b.js("getComputedStyle(document.getElementById('tip')).display"),
                         "none")
        for i in (0, len(PARIS)):
            with self.subTest(pair=i):
                x, y = b.js(centre("document.querySelector('#map circle[data-i=\"%d\"]')" % i))
                # the point drawn on top there (points may overlap), and a
                # point: no name or legend may stand between it and the pointer
                top = b.js("(function (e) { return e.tagName === 'circle' ? e.getAttribute("
                           "'data-i') : e.tagName; })(document.elementFromPoint(%r, %r))"
                           % (x, y))
                self.assertRegex(top, r"^\d+$")
                top = int(top)
                b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
                tip = b.js("document.getElementById('tip').textContent")
                self.assertEqual(
                    b.js("getComputedStyle(document.getElementById('tip')).display"),
                    "block")
                self.assertTrue(tip.startswith("Q: " + qs[top] + "\nA: "), tip)
                self.assertIn("\nlabel: %s\n" % LABELS[rows()[top][1]], tip)
        self.assert_clean()


if __name__ == "__main__":
    unittest.main()
