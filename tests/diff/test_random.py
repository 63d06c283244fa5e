"""Random differential testing: seeded command scripts from gen.py.

CI runs the fixed SEEDS below.  To run more:
  DIFF_SEEDS=100-199 python3 -m pytest tests/diff/test_random.py
  DIFF_SEEDS=17,42   (single seeds; ranges and lists can be mixed)
  DIFF_SEED_COUNT=500  (seeds 1..500)      DIFF_LEN=1000 (commands per seed)
On a mismatch the failure shows the seed, the command, both replies and a
minimized reproducer in case-file syntax (paste it into tests/diff/cases/).
"""

import os

import pytest

import gen
import harness
import minimize

SEEDS = list(range(1, 31))
# Extra arguments given to both servers for generated scripts (gen.PRELUDE
# uses DEBUG SET-ACTIVE-EXPIRE, see there).
SERVER_ARGS = gen.SERVER_ARGS


def _seeds():
    spec = os.environ.get("DIFF_SEEDS")
    count = os.environ.get("DIFF_SEED_COUNT")
    if count:
        return list(range(1, int(count) + 1))
    if not spec:
        return SEEDS
    out = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


LEN = int(os.environ.get("DIFF_LEN", gen.DEFAULT_LEN))


@pytest.mark.parametrize("seed", _seeds())
def test_random_seed(seed, server_factory):
    steps = gen.generate(seed, LEN)
    ref, got = server_factory.pair(*SERVER_ARGS)
    run = harness.DiffRun(ref, got, max_mismatches=1)
    try:
        run.run(steps, stop_on_first=True)
    finally:
        run.close()
    if not run.mismatches and not run.crashed:
        return
    msg = [f"seed {seed} (DIFF_LEN={LEN}); rerun: tests/diff/cli.py --seed {seed} --len {LEN}"]
    idx = None
    if run.crashed:
        msg.append("SERVER EXITED: " + run.crashed)
        idx = run.last_index  # the step after which the server was gone
    if run.mismatches:
        m = run.mismatches[0]
        msg.append(m.format(f"seed {seed}"))
        idx = m.index
    if idx is not None and idx >= 0:
        def start_pair():
            return (server_factory.start("redis", *SERVER_ARGS),
                    server_factory.start("shoal", *SERVER_ARGS))
        small = minimize.minimize(steps[:idx], steps[idx], start_pair)
        if small is None:
            msg.append("(did not reproduce on fresh servers; full prefix: "
                       f"{idx} commands; see cli.py --seed {seed})")
        else:
            msg.append(f"minimized reproducer ({len(small) + 1} of {idx + 1} "
                       f"commands), case-file syntax:\n" +
                       gen.to_case_text(small + [steps[idx]]))
    pytest.fail("\n\n".join(msg), pytrace=False)

