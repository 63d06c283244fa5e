"""One test per hand-written case file in tests/diff/cases/.

Each case file runs on a fresh pair of servers (reference redis-server and
shoal-server, same arguments); every reply is compared (see harness.py for
the format and known_differences.py for the non-exact comparisons).
"""

from pathlib import Path

import pytest

import harness

CASES = sorted((Path(__file__).parent / "cases").glob("*.txt"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_file(path, server_factory):
    case = harness.parse_case_file(path)
    assert case.steps, f"{path.name} has no commands"
    ref, got = server_factory.pair(*case.server_args)
    run = harness.run_case(case, ref, got)
    problems = []
    if run.crashed:
        problems.append("SERVER EXITED: " + run.crashed)
    for m in run.mismatches:
        problems.append(m.format(f"cases/{path.name}"))
    if problems:
        pytest.fail(f"{len(run.mismatches)} mismatch(es) in {path.name}"
                    f"{' (stopped at the limit)' if len(run.mismatches) >= run.max_mismatches else ''}"
                    f":\n\n" + "\n\n".join(problems), pytrace=False)
