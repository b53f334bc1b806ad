"""Every command on a terminal, fed hostile text from every side: a task
folder (as in a cloned repository's ./prompts) whose name, labels,
description and prompts hold terminal escapes, a session path with an ESC
in it, node ids and model output with the same, hostile options and
unknown commands.  Everything weft writes to the terminal (stdout and
stderr both on one pty, as a person sees it) must hold no raw control
byte: nothing below 0x20 but newline, tab and CR before a newline, no
DEL, no C1 control (U+0080..U+009F), no bidi or invisible format
character.  weft's own progress lines (a CR, then the bar; CR ESC [ K to
clear it) are the only sequences it may send, and are taken out first."""
import glob
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import termios
import threading
import unittest

from tests.integration.weftrun import FAST, ServerCase, WEFT, replay

# ESC ] 0 ; title BEL (retitles a pane), OSC 52 (writes the clipboard),
# CSI (clears the screen), C1 CSI, a right-to-left override, CR and BS.
H = "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\u009b31m\u202eRLO\rCR\bBS"
# the same, with no CR (a task.conf value keeps it, but kept short)
H_ID = "\x1b]0;id\x07\u009b\u202e\x1b[2J"

BAD = (set(range(0x00, 0x20)) - {0x09, 0x0a}) | {0x7f} | set(range(0x80, 0xa0)) | \
    {0x061c, 0x180e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a,
     0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066,
     0x2067, 0x2068, 0x2069, 0xfeff}

# weft's own terminal sequences: generate's and eval's progress bars
OWN = re.compile(rb"\r\x1b\[K|\r\[[#. ]{30}\] \d+/\d+(?: +\d+%)?")


def on_terminal(argv, env, cwd, timeout=120, interrupt_after=None):
    """Runs weft with stdout and stderr on one pty (output processing off,
    so every CR seen is one weft wrote) and stdin not a terminal; with
    interrupt_after, sends it SIGINT after that many seconds.  Returns
    (status, everything written to the pty)."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    p = subprocess.Popen([WEFT] + argv, env=env, cwd=cwd, stdout=slave, stderr=slave,
                         stdin=subprocess.DEVNULL)
    os.close(slave)
    if interrupt_after is not None:
        timer = threading.Timer(interrupt_after, p.send_signal, [signal.SIGINT])
        timer.start()
    out = []
    while True:
        r, _, _ = select.select([master], [], [], timeout)
        if not r:
            p.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out.append(chunk)
    p.wait(timeout=timeout)
    if interrupt_after is not None:
        timer.cancel()
    os.close(master)
    return p.returncode, b"".join(out)


def raw_controls(data):
    """The characters of data (bytes) a terminal would obey: a list of
    (offset, code point); bytes that are not UTF-8 count as themselves."""
    data = OWN.sub(b"", data).replace(b"\r\n", b"\n")
    found = []
    text = data.decode("utf-8", "surrogateescape")
    for k, ch in enumerate(text):
        c = ord(ch)
        if 0xdc80 <= c <= 0xdcff:  # a byte that is not UTF-8
            c -= 0xdc00
        if c in BAD or 0xe0000 <= c <= 0xe007f:
            found.append((k, c))
    return found


def write_task(folder):
    """A task folder whose every file holds hostile text."""
    os.makedirs(folder)
    files = {
        "task.conf": "description = questions %s here\n"
                     "labels = Y%ses, N%so\n"
                     "pattern = Question: (.*?)\\nAnswer: (.*?)\\n\n"
                     "preamble = Begin %s.\n"
                     "n = 3\nrounds = 2\nrank = logprobs\n" % (H, H_ID, H_ID, H_ID),
        "generate.txt": "Write questions %s.\nBegin %s.\n\nQuestion:" % (H, H_ID),
        "judge.txt": "Rank %s:\n{document}\n{options}\n" % H,
        "system.txt": "You write %s.\n" % H,
        "eval.txt": "{question} %s\n" % H,
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


def rename_ids(path, suffix):
    """Rewrites the session at path (journal folded in first) so that every
    node id ends in suffix, everywhere it is used."""
    s = replay(path)
    ids = {n["id"] for n in s["nodes"]}

    def walk(x):
        if isinstance(x, str):
            return x + suffix if x in ids else x
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {k: (v if k == "text" else walk(v)) for k, v in x.items()}
        return x

    s = walk(s)
    if os.path.exists(path + ".journal"):
        os.unlink(path + ".journal")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(s, f)


class HostilePty(ServerCase):
    def setUp(self):
        super().setUp()
        self.env.pop("WEFT_PROMPTS", None)  # the task is found in ./prompts
        self.dir = self.tmp.name
        self.task = "evil" + H_ID
        write_task(os.path.join(self.dir, "prompts", self.task))
        self.sess = os.path.join(self.dir, "s" + H_ID + ".json")
        self.raw = []  # every command that wrote raw controls, said at the end

    def assert_clean(self):
        self.assertEqual(self.raw, [], "\n\n".join(self.raw))

    def weft(self, *argv, want=None, interrupt_after=None):
        code, out = on_terminal(list(argv), self.env, self.dir,
                                interrupt_after=interrupt_after)
        what = "weft " + " ".join(repr(a) for a in argv)
        bad = raw_controls(out)
        if bad:
            self.raw.append("%s wrote raw controls (offset, code point) %s:\n%r"
                            % (what, bad[:8], out[:1500]))
        if want is not None:
            self.assertEqual(code, want, "%s exited %s:\n%r" % (what, code, out[:2000]))
        return code, out

    def script(self, steps, n=3, judge="1"):
        gen = []
        for s in range(steps):
            for i in range(n):
                label = ("Y%ses" if (s + i) % 2 == 0 else "N%so") % H_ID
                gen.append(" Is %d.%d %s fine?\nAnswer: %s\n\nQuestion:" % (s, i, H, label))
        self.fs.control(reset=True)
        self.fs.control(script={"gen-model": gen, "judge-model": [judge] * (steps * 4)})

    def test_every_command_on_a_terminal(self):
        sess, d = self.sess, self.dir
        # new and generate: the task's labels in each step line, the path
        _, out = self.weft("new", "--task", self.task, "-o", sess, want=0)
        self.assertIn(b"s^[]0;id^G<U+009B><U+202E>^[[2J.json: new session of task evil^[]0;id^G"
                      b"<U+009B><U+202E>^[[2J\n", out)
        self.script(2)
        _, out = self.weft("generate", sess, "--rounds", "2", *FAST, want=0)
        self.assertIn(b"Y^[]0;id^G<U+009B><U+202E>^[[2Jes 1 / N^[]0;id^G<U+009B><U+202E>^[[2Jo 1\n",
                      out)
        texts = [n["text"] for n in replay(sess)["nodes"]]
        self.assertTrue(any(H in t for t in texts))  # the session keeps the bytes
        # hostile node ids in the session from here on
        rename_ids(sess, H_ID)
        self.script(1)
        self.weft("generate", sess, "--rounds", "3", *FAST, want=0)
        # a judge that answers unusably: the step needs a person (path named)
        self.script(1, judge="none of them \x1b]0;x\x07\u202e\r")
        _, out = self.weft("generate", sess, "--rounds", "4", "--rank", "choice", *FAST, want=3)
        self.assertIn(b"open " + os.fsencode(self.dir) + b"/s^[]0;id^G<U+009B><U+202E>^[[2J.json"
                      b" in weft", out)
        # interrupted while the judge is asked again: the path, named
        self.fs.control(reset=True)
        self.fs.control(latency_ms=5000)
        _, out = self.weft("generate", sess, "--rounds", "5", *FAST, want=130,
                           interrupt_after=2.0)
        self.assertIn(b"interrupted; 3 steps are saved in " + os.fsencode(self.dir) +
                      b"/s^[]0;id^G<U+009B><U+202E>^[[2J.json\n", out)
        self.fs.control(reset=True)
        self.weft("check", sess, want=0)
        for fmt in ("text", "csv", "jsonl"):
            self.weft("extract", sess, "--format", fmt, want=0)
        out_jsonl = os.path.join(d, "o" + H_ID + ".jsonl")
        self.weft("export", sess, "--format", "jsonl", "-o", out_jsonl, want=0)
        out_csv = os.path.join(d, "c" + H_ID + ".csv")
        self.weft("export", sess, "--format", "classification", "-o", out_csv, want=0)
        self.weft("export", sess, "--format", "bonsai", "-o",
                  os.path.join(d, "b" + H_ID + ".json"), want=0)
        code, out = self.weft("replay", sess, want=0)
        code, json_out = self.weft("replay", sess, "--json", want=0)
        self.fs.control(reset=True)
        self.fs.control(script={"judge-model": ["2"] * 20})
        self.weft("replay", sess, "--judge", "judge-model", "--save-as",
                  os.path.join(d, "rj" + H_ID + ".json"), want=0)
        self.weft("replay", sess, "--judge", "judge-model", "--json", want=0)
        # eval and plot: a hostile results folder, a hostile model name
        self.fs.control(reset=True)
        self.fs.control(script={"scorer-model": ["Y%ses" % H_ID, "N" + H] * 10})
        res = os.path.join(d, "r" + H_ID)
        self.weft("eval", out_csv, "--models", "a", "--set", "scorer.a.model=scorer-model",
                  "--method", "generate", "--out", res)
        runs = glob.glob(os.path.join(glob.escape(res), "*"))
        self.assertEqual(len(runs), 1, runs)
        shutil.copy(os.path.join(runs[0], "a.csv"), os.path.join(runs[0], "m" + H_ID + ".csv"))
        self.weft("plot", runs[0], "--size", "a=1e9", "--force")
        self.weft("plot", runs[0], "--size", "a=1e9:fam" + H_ID, "--size",
                  "m%s=1e10:fam%s" % (H_ID, H), "--force")
        self.weft("eval", out_csv, "--models", "a", "--set", "scorer.a.model=scorer-model",
                  "--set", "scorer.a.size=1e9", "--set", "scorer.a.family=f" + H,
                  "--method", "generate", "--out", res)
        self.weft("score", "--type", "text", "--target", "T" + H, "A" + H, "T" + H, want=0)
        self.weft("score", "--type", "choice", "--target", "A", "(A) " + H, want=0)
        self.weft("ping", want=0)
        self.weft("ping", "--set", "generator.model=g" + H_ID, "generator")
        self.weft("ping", "role" + H, want=1)
        self.weft("tui", "--help", want=0)
        self.weft("tui", "--keys", want=0)
        self.weft("--help", want=0)
        self.assert_clean()
        # replay --json escapes what it cannot print: still JSON, the same text
        walk = json.loads(json_out.decode("utf-8"))
        self.assertEqual(walk["file"], sess)
        self.assertTrue(walk["steps"][0]["node"].endswith(H_ID))
        self.assertIn(b"\\u009b", json_out)
        self.assertIn(b"\\u202e", json_out)

    def test_hostile_arguments(self):
        missing = os.path.join(self.dir, "missing" + H + ".json")
        for cmd in ("check", "extract", "export", "new", "generate", "replay", "eval",
                    "plot", "score", "ping", "tui"):
            self.weft(cmd, "--x" + H)
            self.weft(cmd, "-" + H)
            self.weft(cmd, missing)
        _, out = self.weft("-" + H, want=2)
        self.assertIn(b"weft: unknown option '-^[]0;pwned^G", out)
        _, out = self.weft("generate", self.sess, "-q" + H, want=2)
        self.assertIn(b"weft generate: unknown option '-^['\n", out)
        _, out = self.weft("replay", self.sess, "--width", want=2)
        self.assertIn(b"weft replay: option '--width' needs a value\n", out)
        _, out = self.weft("eval", self.sess, "--json=" + H, want=2)
        self.assertIn(b"weft eval: unknown option '--json=^[]0;pwned^G", out)
        self.weft("--" + H, want=2)
        self.weft("frob" + H)  # not a command: a FILE for the loom, missing
        self.weft("new", "--task", "none" + H, "-o", missing)
        self.weft("new", "--task", self.task, "-o", self.sess, want=0)
        self.weft("new", "--task", self.task, "-o", self.sess, want=1)  # exists
        self.weft("generate", self.sess, "--rank", "r" + H, want=2)
        self.weft("generate", self.sess, "--task", "t" + H)
        self.weft("generate", self.sess, "--set", "x" + H + "=1")
        self.weft("generate", self.sess, "--config", missing)
        self.weft("extract", self.sess, "--format", "f" + H, want=2)
        self.weft("extract", self.sess, "--labels", "A" + H + ",B" + H, want=0)
        self.weft("extract", self.sess, "--pattern", "(" + H, want=1)
        self.weft("export", self.sess, "--format", "f" + H, "-o", missing, want=2)
        self.weft("replay", self.sess, "--rank", "r" + H, "--rejudge", want=2)
        self.weft("replay", self.sess, "--task", "t" + H)
        self.weft("eval", self.sess, "--models", "m" + H)
        self.weft("eval", self.sess, "--models", "a", "--method", "m" + H, want=2)
        self.weft("plot", self.dir, "--size", "s" + H)
        self.weft("score", "--type", "t" + H, "--target", "x", "y", want=2)
        self.weft("score", "--type", "choice", "--target", "A", "--prompt", missing, "x")
        self.weft("tui", "--theme", "t" + H, missing)
        self.assert_clean()


if __name__ == "__main__":
    unittest.main()
