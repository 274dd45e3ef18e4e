"""What the real-client checks (tests/check_*.py) share: a tally of named checks."""
import sys


class Tally:
    """`check(name, ok, detail)` prints one line per check; `finish()` prints the totals and
    exits 1 if any check failed."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok      {name}")
        else:
            self.failed += 1
            print(f"FAILED  {name}: {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
