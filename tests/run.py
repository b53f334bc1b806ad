#!/usr/bin/env python3
"""weft's test runner.

Runs every unit-test program (build/<build>/tests/test_*, cmocka) of each
build named with --build, then every integration suite
(tests/integration/test_*.py, unittest) against the sanitizer build's binary
(WEFT_BIN), two at a time. Prints each program's result and closes with the
line `N passed, N failed, N skipped` counting test cases.

  tests/run.py --build release --build asan [--unit-only] [--long] [-k NAME]
  tests/run.py --build release --valgrind -k flows/   (weft under valgrind)
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS",
                   "detect_leaks=1:abort_on_error=0:strict_string_checks=1:"
                   "detect_stack_use_after_return=1:check_initialization_order=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.setdefault("LSAN_OPTIONS", "suppressions=" +
                   os.path.join(ROOT, "tests", "lsan.supp"))
    # Tests never see a real key or a user's configuration.
    for k in list(env):
        if k.startswith("WEFT_") and k not in ("WEFT_BIN", "WEFT_LONG", "WEFT_FIXTURES",
                                                 "WEFT_REQUIRE_FIXTURES", "WEFT_VALGRIND"):
            del env[k]
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    env["XDG_CONFIG_HOME"] = os.path.join(ROOT, "build", "test-config-home")
    return env


def count_cmocka(out):
    def grab(tag):
        m = re.findall(r"^\[\s*%s\s*\]\s+(\d+) test" % tag, out, re.M)
        return sum(int(x) for x in m)
    return grab("PASSED"), grab("FAILED"), grab("SKIPPED")


def count_unittest(out):
    ran = sum(int(x) for x in re.findall(r"^Ran (\d+) tests?", out, re.M))
    failed = 0
    skipped = 0
    for m in re.finditer(r"^(?:OK|FAILED)\s*\(([^)]*)\)", out, re.M):
        for part in m.group(1).split(","):
            k, _, v = part.strip().partition("=")
            if k in ("failures", "errors", "unexpected successes"):
                failed += int(v)
            elif k == "skipped":
                skipped += int(v)
    return ran - failed - skipped, failed, skipped


def run_one(job, env, timeout):
    kind, name, argv = job
    start = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        out = p.stdout.decode("utf-8", "replace")
        code = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        out += "\n[runner] timed out after %d s\n" % timeout
        code = -1
    took = time.monotonic() - start
    if kind == "unit":
        passed, failed, skipped = count_cmocka(out)
    else:
        passed, failed, skipped = count_unittest(out)
    # A program that crashed or leaked (sanitizer exit) fails even if its
    # cases said they passed; one that ran nothing fails too.
    if code != 0 and failed == 0:
        failed = 1
    if passed + failed + skipped == 0:
        failed = 1
        out += "\n[runner] no test case ran\n"
    return name, code, passed, failed, skipped, took, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", action="append", default=[])
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--valgrind", action="store_true",
                    help="run weft under valgrind (the release build) where "
                         "the tests support it (tests/flows)")
    ap.add_argument("-k", dest="only", default=None,
                    help="run only programs whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    args = ap.parse_args()
    builds = args.build or ["asan"]
    env = sanitizer_env()
    if args.long:
        env["WEFT_LONG"] = "1"
    if args.valgrind:
        env["WEFT_VALGRIND"] = "1"

    jobs = []
    for b in builds:
        tdir = os.path.join(ROOT, "build", b, "tests")
        if not os.path.isdir(tdir):
            print("run.py: no %s build (run make %s)" % (b, b), file=sys.stderr)
            return 2
        for t in sorted(os.listdir(tdir)):
            if t.startswith("test_") and os.access(os.path.join(tdir, t), os.X_OK):
                jobs.append(("unit", "%s/%s" % (b, t), [os.path.join(tdir, t)]))
    if not args.unit_only:
        ibuild = "asan" if "asan" in builds and not args.valgrind else builds[0]
        env["WEFT_BIN"] = os.path.join(ROOT, "build", ibuild, "weft")
        # integration: one feature against the fake server; flows: whole
        # user stories through the real binary, checked against the dataset
        # the fake server's known outputs imply.
        for tier in ("integration", "flows"):
            idir = os.path.join(ROOT, "tests", tier)
            for t in sorted(os.listdir(idir)) if os.path.isdir(idir) else []:
                if re.match(r"test_.*\.py$", t):
                    jobs.append(("integration", tier + "/" + t[:-3],
                                 [sys.executable, "-m", "unittest", "-v",
                                  "tests.%s.%s" % (tier, t[:-3])]))
    if args.only:
        jobs = [j for j in jobs if args.only in j[1]]

    if not jobs:
        print("run.py: no tests found", file=sys.stderr)
        return 1
    timeout = 3600 if args.long else 600
    totals = [0, 0, 0]
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(run_one, j, env, timeout) for j in jobs]
        for f in concurrent.futures.as_completed(futs):
            name, code, p, fl, s, took, out = f.result()
            totals[0] += p
            totals[1] += fl
            totals[2] += s
            status = "ok  " if fl == 0 else "FAIL"
            print("%s %-40s %3d passed %2d failed %2d skipped  %5.1fs"
                  % (status, name, p, fl, s, took), flush=True)
            if fl:
                failures.append((name, out))
            elif s and "skip" in out.lower():
                for line in out.splitlines():
                    if "skipped" in line and ("'" in line or ":" in line):
                        print("       " + line.strip()[:160])
    for name, out in failures:
        print("\n==== %s ====\n%s" % (name, out[-6000:]))
    print("%d passed, %d failed, %d skipped" % tuple(totals))
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
