"""Start the fake model server (tests/fake_server.py) from a Python test.

    from tests.integration.fakeserver import FakeServer
    with FakeServer() as fs:
        fs.control(faults=[{"status": 503}])
        ... point weft at fs.base_url (http://127.0.0.1:PORT/v1) ...
        reqs = fs.requests()

The deterministic answers are computed by the functions of tests/fake_server.py,
re-exported here as `rule` (e.g. rule.completion_text(model, key, index)).
"""
import json
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(os.path.dirname(HERE), "fake_server.py")

sys.path.insert(0, os.path.dirname(HERE))
import fake_server as rule  # noqa: E402


class FakeServer:
    def __init__(self, script=None):
        self.script = script
        self.proc = None
        self.port = None

    def start(self):
        argv = [sys.executable, SERVER, "--exit-on-eof"]
        if self.script:
            argv += ["--script", self.script]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line.strip():
            self.proc.kill()
            raise RuntimeError("fake server did not start")
        self.port = int(line)
        return self

    def stop(self):
        if self.proc:
            try:
                self.proc.stdin.close()
                self.proc.terminate()
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return "http://127.0.0.1:%d/v1" % self.port

    def _call(self, method, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode("utf-8")
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            return json.loads(r.read().decode("utf-8"))

    def control(self, **kw):
        """POST /control with the keyword arguments as the JSON object."""
        return self._call("POST", "/control", kw)

    def requests(self):
        """The recorded requests: [{"path", "headers", "body"}]."""
        return self._call("GET", "/requests")
