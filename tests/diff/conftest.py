"""Differential-test reporting: which non-exact comparison rules were used."""

import harness


def pytest_terminal_summary(terminalreporter):
    used = harness.RULES_USED
    if used and terminalreporter.verbosity >= 0:
        terminalreporter.write_sep("-", "diff: non-exact comparisons used "
                                   "(rules in tests/diff/known_differences.py)")
        terminalreporter.write_line(", ".join(f"{k} x{v}" for k, v in sorted(used.items())))
