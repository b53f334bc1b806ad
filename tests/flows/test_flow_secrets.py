"""Flow: a generator that echoes the API key.  weft generate stores the
reply with the key hidden, says so, and no 12-character piece of the key
reaches the session, the journal, an export or the terminal."""
import os

from tests.flows.flowlib import TASK, FlowCase, candidate
from tests.integration.weftrun import KEY


def pieces(key, n=12):
    return {key[i:i + n] for i in range(len(key) - n + 1)}


class EchoedKey(FlowCase):
    def test_key_in_a_reply_is_hidden_and_said(self):
        changed = KEY[:10] + ("Q" if KEY[10] != "Q" else "R") + KEY[11:]
        gen = []
        for i in range(1, 6):
            text = candidate(1, i, "Yes")
            if i == 2:  # the judge's pick holds the key, and a near copy
                text = text.replace("settled?", "settled by %s or %s?" % (KEY, changed))
            gen.append(text)
        self.fs.control(script={"gen-model": gen, "judge-model": ["2"]})
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        _, out, err = self.weft("generate", "s.json", "--rounds", "1", *self.fast, check=0)
        self.assertIn("warning: a model's reply held a piece of an API key", err)
        self.exported_pairs("s.json")
        written = b""
        for name in os.listdir(self.dir):
            path = self.path(name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    written += f.read()
        self.assertIn("[key hidden]", self.chosen_text("s.json"))
        for p in pieces(KEY):
            self.assertNotIn(p.encode(), written)
            self.assertNotIn(p, out + err)
