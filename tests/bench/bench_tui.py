"""Time per keypress in the loom on a large generated tree, through tmux.

    python3 tests/bench/bench_tui.py [NODES] [KEYS]

Each key is sent alone and the screen polled until the status line shows
its effect, so a figure includes tmux's send/capture round trip (measured
first with an unbound key at 30 nodes as the baseline)."""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build/release/weft"))


def run(nodes, keys):
    sock = "weft-bench-%d-%d" % (os.getpid(), nodes)
    T = ["tmux", "-u", "-f", "/dev/null", "-L", sock]
    cap = lambda: subprocess.run(T + ["capture-pane", "-p"], stdout=subprocess.PIPE,
                                 universal_newlines=True).stdout
    subprocess.run(T + ["new-session", "-d", "-x", "100", "-y", "30",
                        "LC_ALL=C.UTF-8 %s tui --synthetic %d; sleep 600" % (WEFT, nodes)],
                   check=True)
    try:
        t0 = time.time()
        while "? help" not in cap():
            time.sleep(0.002)
        opened = time.time() - t0
        times = []
        for i in range(keys):
            t0 = time.time()
            subprocess.run(T + ["send-keys", "l"])
            want = "step %d/" % (i + 1)
            while want not in cap():
                time.sleep(0.0005)
            times.append(time.time() - t0)
        times.sort()
        return opened, times[len(times) // 2], times[int(len(times) * 0.95)]
    finally:
        subprocess.run(T + ["kill-server"])


if __name__ == "__main__":
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    for n in (150, nodes):
        o, med, p95 = run(n, min(keys, n // 5 - 1))
        print("%8d nodes: open %.3f s, per key median %.2f ms, p95 %.2f ms" %
              (n, o, med * 1000, p95 * 1000))
