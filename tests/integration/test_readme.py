"""README's examples run: every ```sh block marked `<!-- offline -->` runs
in a scratch folder holding a copy of sessions/, and every block marked
`<!-- fake-server -->` the same against tests/fake_server.py (the judge
scripted to pick); each command must exit 0.  Also: every command of
`weft --help` has its paragraph, every key of `weft tui --keys` is in the
key table, and every link between README, HACKING.md and docs/ leads to a
file and heading that exist."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "release", "weft"))
README = os.path.join(ROOT, "README.md")
MARKS = ("offline", "fake-server")


def marked_blocks(text):
    """(mark, line number, commands) for each ```sh block right after a
    `<!-- MARK -->` line (blank lines between are allowed)."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"<!--\s*([a-z-]+)\s*-->\s*$", lines[i])
        if m and m.group(1) in MARKS:
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j].strip() == "```sh":
                k = j + 1
                while k < len(lines) and lines[k].strip() != "```":
                    k += 1
                blocks.append((m.group(1), j + 1, "\n".join(lines[j + 1:k])))
                i = k
        i += 1
    return blocks


def slug(heading):
    """The anchor GitHub makes of a heading."""
    s = heading.strip().lower().replace("`", "")
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def headings(path):
    out, fence = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fence = not fence
            elif not fence and re.match(r"#+ ", line):
                out.add(slug(line.split(" ", 1)[1]))
    return out


class ReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(README, encoding="utf-8") as f:
            cls.text = f.read()

    def setUp(self):
        if not os.path.exists(WEFT):
            self.fail("weft binary missing: " + WEFT)
        tmp = tempfile.TemporaryDirectory(prefix="weft-readme-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        shutil.copytree(os.path.join(ROOT, "sessions"), os.path.join(self.dir, "sessions"))
        self.env = dict(os.environ)
        self.env["PATH"] = os.path.dirname(os.path.abspath(WEFT)) + os.pathsep + self.env["PATH"]
        self.env["HOME"] = self.dir
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "config")
        self.env["LC_ALL"] = "C.UTF-8"
        self.env.pop("TMUX", None)

    def run_block(self, commands, env):
        """Runs the block with sh -e, one command at a time, so the first
        failing command stops it and is named."""
        p = subprocess.run(["sh", "-e", "-x", "-c", commands], cwd=self.dir, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def test_blocks_are_marked(self):
        marks = [m for m, _, _ in marked_blocks(self.text)]
        for mark in MARKS:
            self.assertIn(mark, marks, "README has no ```sh block marked <!-- %s -->" % mark)

    def test_offline_blocks_run(self):
        for mark, line, commands in marked_blocks(self.text):
            if mark != "offline":
                continue
            with self.subTest(line=line):
                code, out = self.run_block(commands, self.env)
                self.assertEqual(code, 0, "README.md:%d: the block failed:\n%s" % (line, out[-3000:]))

    def test_fake_server_blocks_run(self):
        script = os.path.join(self.dir, "judge-script.json")
        with open(script, "w") as f:
            f.write('{"script": {"judge-model": [%s]}}' % ", ".join(['"1"'] * 200))
        for mark, line, commands in marked_blocks(self.text):
            if mark != "fake-server":
                continue
            with self.subTest(line=line), FakeServer(script=script) as fs:
                env = dict(self.env, WEFT_BASE_URL=fs.base_url,
                           WEFT_GENERATOR_MODEL="gen-model", WEFT_JUDGE_MODEL="judge-model",
                           OPENAI_API_KEY="sk-readme-test-key-0123456789")
                code, out = self.run_block(commands, env)
                self.assertEqual(code, 0, "README.md:%d: the block failed:\n%s" % (line, out[-3000:]))

    def test_a_broken_example_fails(self):
        broken = self.text.replace("weft check sessions/demo.json",
                                   "weft check sessions/no-such-demo.json", 1)
        blocks = [b for b in marked_blocks(broken) if b[0] == "offline"]
        self.assertTrue(blocks)
        code, out = self.run_block(blocks[0][2], self.env)
        self.assertNotEqual(code, 0, out)
        self.assertIn("no-such-demo.json", out)

    def test_every_command_has_its_paragraph(self):
        p = subprocess.run([WEFT, "--help"], stdout=subprocess.PIPE, timeout=60)
        listing = p.stdout.decode().split("commands:", 1)[1].split("options:", 1)[0]
        commands = re.findall(r"^\s+([a-z]+)\s", listing, re.M)
        self.assertGreater(len(commands), 5)
        section = self.text.split("## Commands", 1)[1].split("\n## ", 1)[0]
        for c in commands:
            self.assertRegex(section, r"(?m)^`weft %s[ `]" % c, "README: no paragraph on weft %s" % c)

    def test_every_key_is_in_the_table(self):
        p = subprocess.run([WEFT, "tui", "--keys"], stdout=subprocess.PIPE, timeout=60)
        table = self.text.split("## The loom's keys", 1)[1].split("\n## ", 1)[0]
        cells = set(re.findall(r"`([^`]+)`", table))
        for line in p.stdout.decode().splitlines():
            key = line.split()[0] if line.strip() else ""
            if key:
                # 1-9 is written `1`-`9` in the table
                self.assertTrue(key in cells or key == "1-9" and "1" in cells,
                                "README key table lacks %r" % key)

    def test_links_lead_somewhere(self):
        pages = [README, os.path.join(ROOT, "HACKING.md")] + \
            sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
        for page in pages:
            with open(page, encoding="utf-8") as f:
                text = re.sub(r"(?ms)^```.*?^```", "", f.read())
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"[a-z]+:", target):
                    continue
                path, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                with self.subTest(page=os.path.relpath(page, ROOT), link=target):
                    self.assertTrue(os.path.exists(full), "no file " + full)
                    if anchor and full.endswith(".md"):
                        self.assertIn(anchor, headings(full))


if __name__ == "__main__":
    unittest.main()
