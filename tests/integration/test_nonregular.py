"""Inputs that are not regular files are refused at once, by every command
that reads a session or dataset: a FIFO used to hang `weft check`, and
/dev/zero fed it gigabytes before the size cap."""
import os
import tempfile
import unittest

from tests.integration.weftrun import WEFT, run


class NonRegularInputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.fifo = os.path.join(self.tmp.name, "s.json")
        os.mkfifo(self.fifo)
        self.env = dict(os.environ, XDG_CONFIG_HOME=self.tmp.name)

    def check_refused(self, argv, path, what):
        code, out, err = run(argv, self.env, timeout=20)
        err = err.decode("utf-8", "replace")
        self.assertNotEqual(code, 0, err)
        self.assertIn("%s: is not a regular file (%s)" % (path, what), err)

    def test_fifo_and_device(self):
        for path, what in ((self.fifo, "a FIFO"), ("/dev/zero", "a character device")):
            with self.subTest(path=path):
                self.check_refused(["check", path], path, what)
                self.check_refused(["extract", path], path, what)
                self.check_refused(["export", path, "--format", "jsonl", "-o",
                                    os.path.join(self.tmp.name, "o.jsonl")], path, what)
                self.check_refused(["replay", path], path, what)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "o.jsonl")))


if __name__ == "__main__":
    unittest.main()
