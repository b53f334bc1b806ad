"""The upstream fixtures the parity tests compare weft against.

The folder is $WEFT_FIXTURES, or ../shared/fixtures/upstream-mwe beside the
checkout. Where it is absent (a laptop, a clone elsewhere) a test that needs
it skips and says why; under WEFT_REQUIRE_FIXTURES=1, which .ci/run sets, it
fails instead, so CI never passes with a parity test quietly skipped. The C
unit tests do the same through testutil_fixtures() in tests/unit/testutil.h.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.environ.get("WEFT_FIXTURES") or os.path.normpath(os.path.join(
    ROOT, "..", "shared", "fixtures", "upstream-mwe"))


def required():
    """True when a missing fixture must fail the test (WEFT_REQUIRE_FIXTURES=1)."""
    return os.environ.get("WEFT_REQUIRE_FIXTURES", "") not in ("", "0")


def path(*parts):
    """The path of a fixture (a file or folder under DIR), whether or not it exists."""
    return os.path.join(DIR, *parts)


def need(testcase, *parts):
    """The path of a fixture that exists. When it does not, skips testcase
    with a message naming it, or fails it when required()."""
    p = path(*parts)
    if os.path.exists(p):
        return p
    msg = "fixture %s not found ($WEFT_FIXTURES or ../shared/fixtures/upstream-mwe)" % p
    if required():
        testcase.fail(msg + ", and WEFT_REQUIRE_FIXTURES=1 makes that a failure")
    testcase.skipTest(msg)
    return p
