"""Bounded resources: documented caps give clear errors past them, and deep
trees do not recurse.  The 1,000,000-deep chain and the 64 MiB journal line
run only with WEFT_LONG=1 (on the release build when it exists: ASan is
several times slower); the chain is also opened in the loom (tmux), moved
through from its deepest node to the root and back."""
import json
import os
import unittest

from tests.integration.weftrun import FAST, KEY, LONG, ROOT, ServerCase, WEFT, integrity, run

RELEASE = os.path.join(ROOT, "build", "release", "weft")


class CapsTest(ServerCase):
    def test_response_body_cap(self):
        code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.session], self.env)
        self.assertEqual(code, 0, err)
        self.fs.control(script={"gen-model": ["x" * (17 << 20)]})
        # a generous timeout: sending 17 MiB on a busy machine takes a while
        code, _, err = run(["generate", self.session, "--rounds", "1"] + FAST
                           + ["--set", "generator.timeout=120"], self.env)
        self.assertEqual(code, 1, err)
        self.assertIn(b"response larger than 16777216 bytes", err)
        self.assertEqual(len(self.fs.requests()), 1)  # not retried
        self.assertEqual(integrity(self, self.session), 0)

    def test_config_file_cap(self):
        os.makedirs(os.path.join(self.tmp.name, "weft"))
        with open(os.path.join(self.tmp.name, "weft", "config"), "w") as f:
            f.write("# padding\n" * 120000)
        code, _, err = run(["ping"], self.env)
        self.assertEqual(code, 2)  # a configuration error
        self.assertIn(b"config", err)
        self.assertIn(b"1048576", err)

    @unittest.skipUnless(LONG, "WEFT_LONG=1 only (a 64 MiB line)")
    def test_journal_line_cap(self):
        code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.session], self.env)
        self.assertEqual(code, 0, err)
        with open(self.session + ".journal", "wb") as f:
            f.write(b'{"op":"path","pathNodes":["' + b"x" * (65 << 20) + b'"]}\n')
        code, _, err = run(["check", self.session], self.env)
        self.assertEqual(code, 1)
        self.assertIn(b".journal:1", err)

    @unittest.skipUnless(LONG, "WEFT_LONG=1 only (a 1,000,000-deep chain)")
    def test_million_deep_chain(self):
        weft = RELEASE if os.path.exists(RELEASE) else WEFT
        depth = 1000000
        # Short texts (" ."), but for the nodes the loom's search looks for:
        # the whole document stays under the 4 MiB a prompt may have, so
        # generate can grow a step at the tip.
        named = {0, depth - 3, depth - 1}
        with open(self.session, "w", encoding="utf-8") as f:
            f.write('{"name":"deep","meta":{},"weft":{"task":"nice-sounding-wrong"},"nodes":[')
            for i in range(depth):
                kids = '["n%d"]' % (i + 1) if i + 1 < depth else "[]"
                par = '["n%d"]' % (i - 1) if i else "[]"
                text = " w%d" % i if i in named else " ."
                f.write('%s{"id":"n%d","text":"%s","parentIds":%s,"childrenIds":%s}'
                        % ("," if i else "", i, text, par, kids))
            f.write('],"pathNodes":[%s],"focusedId":"n%d"}'
                    % (",".join('"n%d"' % i for i in range(depth)), depth - 1))
        env = self.env
        code, out, err = run(["check", self.session], env, weft=weft)  # load
        self.assertEqual(code, 0, err)
        self.assertIn(b"depth:       %d" % (depth - 1), out)
        self.render_deep(weft, depth)
        out_path = os.path.join(self.tmp.name, "o.json")
        code, _, err = run(["export", self.session, "--format", "bonsai", "-o", out_path], env, weft=weft)
        self.assertEqual(code, 0, err)  # write
        code, out, err = run(["check", out_path], env, weft=weft)
        self.assertEqual(code, 0, err)
        # one step at the tip of the chain: replay, grow, journal and save
        self.fs.control(script={"judge-model": ["1"]})
        code, _, err = run(["generate", self.session, "--rounds", str(depth), "--task",
                            "nice-sounding-wrong", "--set", "generator.timeout=200",
                            "--set", "judge.timeout=200"], env, weft=weft)
        self.assertEqual(code, 0, err)
        code, out, err = run(["check", self.session], env, weft=weft)
        self.assertEqual(code, 0, err)
        self.assertIn(b"chosen path: %d nodes" % (depth + 1), out)

    def render_deep(self, weft, depth):
        """The loom opens the chain at its deepest node (the focus), moves to
        the root and back (search jumps: "w0" is only the root's text) and a
        few steps along, drawing every frame, and quits cleanly."""
        from unittest import mock
        from tests.integration import test_tui
        if not test_tui.TMUX:
            self.skipTest("tmux is not installed")
        with mock.patch.object(test_tui, "WEFT", os.path.abspath(weft)):
            p = test_tui.Pane(self, ["tui", self.session], width=120, height=30)
        last = depth - 1
        p.wait_for(r"\? help", timeout=300)
        p.wait_for(r"\| step %d/%d \|" % (last, last), timeout=300)
        self.assertIn("w%d" % last, p.screen())
        for pattern, pos in (("w0", 0), ("w%d" % last, last), ("w0", 0)):
            p.keys("/")
            p.type(pattern)
            p.keys("Enter")
            p.wait_for(r"\| step %d/%d \|" % (pos, last), timeout=300)
        p.keys("l", "l", "l")
        p.wait_for(r"\| step 3/%d \|" % last, timeout=300)
        p.keys("/")
        p.type("w%d" % last)
        p.keys("Enter")
        p.wait_for(r"\| step %d/%d \|" % (last, last), timeout=300)
        p.keys("h", "h")
        p.wait_for(r"\| step %d/%d \|" % (last - 2, last), timeout=300)
        self.assertIn("w%d" % (last - 2), p.screen())
        p.keys("q")
        p.wait_for(r"weft-exit=0", timeout=300)
        self.assertEqual(p.stderr(), "")


if __name__ == "__main__":
    unittest.main()
