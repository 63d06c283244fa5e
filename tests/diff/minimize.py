"""Shrink a failing generated script to a short reproducer.

Given steps[0..i] where step i mismatches, find a small subsequence of the
prefix that, followed by step i, still mismatches at its last step when run
on fresh servers.  Greedy chunk removal (ddmin-like), bounded in trials and
time; the result is valid case-file text.
"""

from __future__ import annotations

import time

import harness


def still_fails(steps, start_pair) -> bool:
    ref, got = start_pair()
    try:
        run = harness.DiffRun(ref, got)
        try:
            for i, st in enumerate(steps):
                m = run.step(i, st)
                if m is not None:
                    return i == len(steps) - 1
                if not ref.alive() or not got.alive():
                    return i == len(steps) - 1 or not got.alive()
            return False
        finally:
            run.close()
    finally:
        ref.cleanup()
        got.cleanup()


def minimize(prefix, failing, start_pair, max_trials=150, max_seconds=90):
    """prefix: steps before the failing one; failing: the failing step.
    start_pair(): returns a fresh (ref, got) pair of started servers."""
    deadline = time.monotonic() + max_seconds
    trials = 0
    cur = list(prefix)
    if not still_fails(cur + [failing], start_pair):
        return None  # not reproducible on fresh servers (timing/state)
    if still_fails([failing], start_pair):
        return []
    chunk = max(1, len(cur) // 2)
    while chunk >= 1 and trials < max_trials and time.monotonic() < deadline:
        i = 0
        removed_any = False
        while i < len(cur) and trials < max_trials and time.monotonic() < deadline:
            cand = cur[:i] + cur[i + chunk:]
            trials += 1
            if still_fails(cand + [failing], start_pair):
                cur = cand
                removed_any = True
            else:
                i += chunk
        if not removed_any:
            chunk //= 2
    return cur
