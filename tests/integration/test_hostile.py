"""Hostile text: model output and file contents carrying terminal escapes
(ANSI colours, cursor moves, OSC 52 clipboard writes, title sets), C0 and
C1 controls, CR and BS, bidi overrides, zero-width characters, invalid
UTF-8 and a 10 MB single line.  Sessions keep every byte; everything weft
prints (extract on a terminal, check's errors, error messages) shows them
harmlessly."""
import json
import os
import pty
import select
import subprocess
import termios
import unittest

from tests.integration.weftrun import FAST, KEY, ROOT, ServerCase, WEFT, integrity, replay, run

HOSTILE = [
    "\x1b[31mred\x1b[0m and \x1b[2J\x1b[H cleared",
    "\x1b[5A\x1b[10Cmoved up",
    "\x1b]52;c;cm0gLXJmIH4=\x07 clipboard",
    "\x1b]0;pwned title\x07 title",
    "\u009b31m C1 CSI and \u009d0;osc\u009c",
    "over\rwrite and back\b\b\bspace",
    "bidi \u202eevil\u202c and \u2066isolate\u2069",
    "zero\u200bwidth\ufeff",
    "bell\x07 nul-free \x7f del",
    "question: \x1b[8mhidden\x1b[0m",
]
BAD = set(range(0x00, 0x20)) - {0x0a, 0x09} | {0x7f} | set(range(0x80, 0xa0)) | \
    {0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b,
     0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff}


def assert_safe(tc, data, what):
    """data (bytes) is valid UTF-8 with no control, C1, bidi or zero-width
    character but newline and tab."""
    text = data.decode("utf-8")  # invalid bytes must come out as \\xHH
    for ch in text:
        tc.assertNotIn(ord(ch), BAD, "%s printed U+%04X raw: %r" % (what, ord(ch), text[:300]))


def on_pty(argv, env):
    """Runs weft with stdout on a terminal (output processing off, so a CR
    seen is one weft wrote); stderr a pipe.  Returns (code, out, err)."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    p = subprocess.Popen([WEFT] + argv, env=env, cwd=ROOT, stdout=slave,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = []
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out.append(chunk)
    out = b"".join(out)
    err = p.stderr.read()
    p.stderr.close()
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, out, err


class HostileTest(ServerCase):
    NEW_SESSION = True

    def test_model_output_is_stored_unchanged_and_shown_safely(self):
        texts = ["\nQuestion: %s?\nAnswer: Yes\n" % h for h in HOSTILE]
        self.fs.control(script={"gen-model": texts, "judge-model": ["1"] * 10})
        code, out, err = run(["generate", self.session, "--rounds", "2"] + FAST, self.env)
        self.assertEqual(code, 0, err)
        assert_safe(self, out, "generate stdout")
        assert_safe(self, err, "generate stderr")
        stored = [n["text"] for n in replay(self.session)["nodes"]]
        for t in texts:
            self.assertIn(t, stored)  # every byte kept
        for argv in (["extract", self.session], ["extract", self.session, "--format", "csv"],
                     ["extract", self.session, "--format", "jsonl"], ["check", self.session]):
            code, out, err = on_pty(argv, self.env)
            self.assertEqual(code, 0, err)
            assert_safe(self, out, " ".join(argv[:1]) + " on a terminal")
            assert_safe(self, err, " ".join(argv[:1]) + " stderr")
        # the picked question is on the path: extract shows it, escaped
        code, out, _ = on_pty(["extract", self.session], self.env)
        self.assertIn(b"^[[31mred^[[0m", out)
        # piped, extract's pairs keep the bytes (a pipe is not a terminal)
        code, out, _ = run(["extract", self.session, "--format", "jsonl"], self.env)
        self.assertIn(HOSTILE[0], "".join(json.loads(l)["question"] for l in out.splitlines()))

    def test_invalid_utf8_from_the_model(self):
        self.fs.control(faults=[{"non_utf8": True}], script={"judge-model": ["1"] * 5})
        code, out, err = run(["generate", self.session, "--rounds", "1"] + FAST, self.env)
        assert_safe(self, out, "generate stdout")
        assert_safe(self, err, "generate stderr")
        self.assertIn(code, (0, 1))
        self.assertEqual(integrity(self, self.session), code == 0 and 1 or 0)
        code, out, err = on_pty(["extract", self.session], self.env)
        assert_safe(self, out, "extract")

    def test_server_error_messages_are_shown_safely(self):
        msg = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\rgone\u009b\u202e"
        self.fs.control(faults=[{"status": 403, "message": msg}])
        code, out, err = run(["generate", self.session, "--rounds", "1"] + FAST, self.env)
        self.assertEqual(code, 1, err)
        assert_safe(self, err, "generate error")
        self.assertIn(b"ZXZpbA==", err)
        self.assertIn(b"gone<U+009B><U+202E>", err)
        self.fs.control(faults=[{"status": 403, "message": msg}] * 2)
        code, out, err = run(["ping"], self.env)
        assert_safe(self, out, "ping stdout")
        assert_safe(self, err, "ping stderr")

    def test_check_errors_name_hostile_ids_safely(self):
        bad_id = "\x1b]0;pwned\x07\u202e\u009b\udcff"
        s = {"name": "h\x1b[2J", "nodes": [
            {"id": "r", "text": "root", "parentIds": [], "childrenIds": ["a"]},
            {"id": "a", "text": "x", "parentIds": [bad_id], "childrenIds": []}],
            "pathNodes": ["r"]}
        path = os.path.join(self.tmp.name, "bad.json")
        with open(path, "wb") as f:
            f.write(json.dumps(s).encode("utf-8", "surrogateescape")
                    .replace(b"\\udcff", b"\xff"))
        code, out, err = run(["check", path], self.env)
        self.assertEqual(code, 1)
        assert_safe(self, out + err, "check error")
        # a journal line that is not JSON, full of escapes
        with open(self.session + ".journal", "wb") as f:
            f.write(b'{"op":"node"\x1b[2J\xc2\x9b\xff}\n{"op":"path","pathNodes":[]}\n')
        code, out, err = run(["check", self.session], self.env)
        self.assertEqual(code, 1)
        assert_safe(self, out + err, "check journal error")
        self.assertIn(b".journal:1", err)

    def test_ten_megabyte_line(self):
        with open(self.session, encoding="utf-8") as f:
            s = json.load(f)
        root = s["nodes"][0]
        line = ("\x1b[31m\u202e\u200b\u009bword " * 600000)[: 10 << 20]
        big = {"id": "big", "text": "\nQuestion: " + line + "?\nAnswer: No\n",
               "parentIds": [root["id"]], "childrenIds": []}
        root["childrenIds"] = [big["id"]]
        s["nodes"].append(big)
        s["pathNodes"] = [root["id"], "big"]
        s["focusedId"] = "big"
        with open(self.session, "w", encoding="utf-8") as f:
            json.dump(s, f)
        code, out, err = run(["check", self.session], self.env)
        self.assertEqual(code, 0, err)
        assert_safe(self, out + err, "check")
        code, out, err = on_pty(["extract", self.session], self.env)
        self.assertEqual(code, 0, err)
        assert_safe(self, out, "extract of a 10 MB line")
        self.assertGreater(len(out), 10 << 20)
        outp = os.path.join(self.tmp.name, "o.jsonl")
        code, _, err = run(["export", self.session, "--format", "jsonl", "-o", outp], self.env)
        self.assertEqual(code, 0, err)
        with open(outp, encoding="utf-8") as f:
            self.assertIn(line, json.loads(f.readline())["question"])


if __name__ == "__main__":
    unittest.main()
