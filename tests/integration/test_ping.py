"""weft ping against the fake model server (tests/fake_server.py)."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
KEY = "sk-ping-test-SECRET-0123456789"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fs = FakeServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.fs.stop()

    def setUp(self):
        self.fs.control(reset=True)
        self.home = tempfile.mkdtemp(prefix="weft-ping-")
        os.makedirs(os.path.join(self.home, "weft"))

    def tearDown(self):
        shutil.rmtree(self.home)

    def write_config(self, text):
        with open(os.path.join(self.home, "weft", "config"), "w") as f:
            f.write(text)

    def run_weft(self, *args, env_extra=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("WEFT_") or k == "WEFT_BIN"}
        env.pop("OPENAI_BASE_URL", None)
        env["XDG_CONFIG_HOME"] = self.home
        env["no_proxy"] = "127.0.0.1"
        env["WEFT_TEST_PING_KEY"] = KEY
        env.update(env_extra or {})
        p = subprocess.run([WEFT, "ping", *args], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def test_ping_roles(self):
        self.write_config(
            "[generator]\nbase_url = %s\nmodel = gen-m\napi_key_env = WEFT_TEST_PING_KEY\n"
            "[judge]\nbase_url = %s\nmodel = judge-m\n"
            "[scorer.base]\nbase_url = %s\nmodel = base-m\nendpoint = completions\n"
            % (self.fs.base_url, self.fs.base_url, self.fs.base_url))
        code, out, err = self.run_weft()
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        for role, model in (("generator", "gen-m"), ("judge", "judge-m"), ("scorer.base", "base-m")):
            line = [x for x in lines if x.startswith(role + " ")][0]
            self.assertIn(model, line)
            self.assertIn(self.fs.base_url, line)
            self.assertIn("n: yes", line)
            self.assertIn("logprobs: yes", line)
            self.assertRegex(line, r"\d+ ms")
        reqs = self.fs.requests()
        self.assertEqual(len(reqs), 3)
        paths = sorted(r["path"] for r in reqs)
        self.assertEqual(paths, ["/v1/chat/completions", "/v1/chat/completions", "/v1/completions"])
        for r in reqs:
            self.assertEqual(r["body"]["n"], 2)
            self.assertNotIn(KEY, str(r["body"]))
        gen = [r for r in reqs if r["body"]["model"] == "gen-m"][0]
        self.assertEqual(gen["headers"].get("Authorization"), "Bearer " + KEY)

    def test_one_role_n_ignored(self):
        self.write_config("[judge]\nbase_url = %s\nmodel = judge-m\n" % self.fs.base_url)
        self.fs.control(ignore_n=True)
        code, out, err = self.run_weft("judge")
        self.assertEqual(code, 0, err)
        self.assertIn("n: no", out)
        self.assertTrue(out.startswith("judge "))

    def test_env_and_flag(self):
        code, out, err = self.run_weft(
            "--set", "generator.api_key_env=WEFT_TEST_PING_KEY",
            env_extra={"WEFT_GENERATOR_MODEL": "env-m", "WEFT_BASE_URL": self.fs.base_url})
        self.assertEqual(code, 0, err)
        self.assertIn("env-m", out)
        code, out, err = self.run_weft(
            "--set", "generator.model=flag-m",
            env_extra={"WEFT_GENERATOR_MODEL": "env-m", "OPENAI_BASE_URL": self.fs.base_url})
        self.assertEqual(code, 0, err)
        self.assertIn("flag-m", out)

    def test_nothing_configured(self):
        code, out, err = self.run_weft()
        self.assertEqual(code, 1)
        self.assertIn("no model is configured", err)

    def test_unreachable_and_errors_hide_key(self):
        port = free_port()
        self.write_config("[generator]\nbase_url = http://127.0.0.1:%d/v1\nmodel = m\n"
                          "api_key_env = WEFT_TEST_PING_KEY\ntimeout = 5\n" % port)
        code, out, err = self.run_weft()
        self.assertEqual(code, 1)
        self.assertIn("unreachable or failed", out)
        self.assertIn("127.0.0.1:%d" % port, out)
        # a server that echoes the key in its error message
        self.write_config("[generator]\nbase_url = %s\nmodel = m\n"
                          "api_key_env = WEFT_TEST_PING_KEY\n" % self.fs.base_url)
        self.fs.control(faults=[{"status": 401}])
        code, out, err = self.run_weft()
        self.assertEqual(code, 1)
        self.assertIn("HTTP 401", out)
        self.assertNotIn(KEY, out + err)
        for dirpath, _, files in os.walk(self.home):
            for name in files:
                with open(os.path.join(dirpath, name), errors="replace") as f:
                    self.assertNotIn(KEY, f.read())

    def test_bad_config_and_usage(self):
        self.write_config("[generator]\nmodel = m\ntemprature = 1\n")
        code, out, err = self.run_weft()
        self.assertEqual(code, 2)  # a configuration error, as a usage error
        self.assertIn("weft/config:3: key 'temprature': unknown key", err)
        code, out, err = self.run_weft("--bogus")
        self.assertEqual(code, 2)
        code, out, err = self.run_weft("--help")
        self.assertEqual(code, 0)
        self.assertIn("usage: weft ping", out)
        self.write_config("[generator]\nmodel = m\n")
        code, out, err = self.run_weft("scorer.none")
        self.assertEqual(code, 1)
        self.assertIn("no role", err)


if __name__ == "__main__":
    unittest.main()
