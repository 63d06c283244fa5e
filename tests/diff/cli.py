#!/usr/bin/env python3
"""Run differential cases by hand, outside pytest.

  tests/diff/cli.py cases/strings.txt [more.txt ...]   compare redis vs shoal
  tests/diff/cli.py --show cases/strings.txt           also print every reply
  tests/diff/cli.py --seed 17 [--len 300]              one random-generator seed
  tests/diff/cli.py --ref-only --show cases/x.txt      only run the reference

Servers are the same as in pytest (SHOAL_SERVER / REDIS_SERVER override).
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import harness  # noqa: E402
import resp  # noqa: E402
import servers  # noqa: E402


def show_run(case, srv_list):
    sides = [harness.Side(s, case.resp3) for s in srv_list]
    for st in case.steps:
        outs = [side.run(st) for side in sides]
        print(f"{st.lineno:4}: {st.describe()}")
        for side, out in zip(sides, outs):
            for _, r in out:
                txt = r.kind if r.kind.startswith("<") else resp.format_reply(r)
                print(f"      {side.server.kind:5} " + txt.replace("\n", "\n            "))
    for side in sides:
        side.close_all()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--ref-only", action="store_true")
    ap.add_argument("--seed", type=int, action="append", default=[])
    ap.add_argument("--len", type=int, default=None)
    a = ap.parse_args()
    def resolve(f):
        p = Path(f)
        if not p.exists() and (HERE / "cases" / p.name).exists():
            p = HERE / "cases" / p.name
        return p
    cases = [harness.parse_case_file(resolve(f)) for f in a.files]
    if a.seed:
        import gen
        for seed in a.seed:
            steps = gen.generate(seed, a.len or gen.DEFAULT_LEN)
            cases.append(harness.Case(f"seed {seed}", steps,
                                      server_args=list(gen.SERVER_ARGS)))
    bad = 0
    try:
        for case in cases:
            kinds = ["redis"] if a.ref_only else ["redis", "shoal"]
            srvs = [servers.Server(k, case.server_args).start() for k in kinds]
            try:
                if a.show or a.ref_only:
                    show_run(case, srvs)
                    continue
                run = harness.run_case(case, *srvs)
                if run.crashed:
                    print("SERVER EXITED:", run.crashed)
                    bad += 1
                for m in run.mismatches:
                    print(m.format(case.name))
                    print()
                bad += len(run.mismatches)
                print(f"{case.name}: {len(run.mismatches)} mismatch(es)")
            finally:
                for s in srvs:
                    s.cleanup()
    finally:
        servers.stop_all()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
