"""What scripts and functions propagate to replicas, compared with
redis-server 7.0.15 (see test_effects.py for the method): redis.set_repl
(REPL_NONE and REPL_AOF keep a write away from replicas, REPL_REPLICA and
REPL_ALL send it), FCALL's effects wrapped in MULTI/EXEC, and FUNCTION
LOAD / DELETE / FLUSH / RESTORE propagated as themselves.
"""

from __future__ import annotations

from test_effects import compare, nodes  # noqa: F401  (fixture)

LIB = ("#!lua name=eff\n"
       "redis.register_function('eff_set', function(keys, args) "
       "redis.call('set', keys[1], args[1]) return redis.call('incr', keys[2]) end)\n")


def test_set_repl(nodes):  # noqa: F811
    compare(nodes, [
        ("EVAL", "redis.set_repl(redis.REPL_NONE) return redis.call('set', KEYS[1], 'none')", "1", "a"),
        ("EVAL", "redis.set_repl(redis.REPL_AOF) return redis.call('set', KEYS[1], 'aof')", "1", "b"),
        ("EVAL", "redis.set_repl(redis.REPL_REPLICA) return redis.call('set', KEYS[1], 'replica')", "1", "c"),
        ("EVAL", "redis.set_repl(redis.REPL_SLAVE) return redis.call('set', KEYS[1], 'slave')", "1", "c"),
        ("EVAL", "redis.set_repl(redis.REPL_ALL) return redis.call('set', KEYS[1], 'all')", "1", "d"),
        ("EVAL", "redis.call('set', KEYS[1], '1') redis.set_repl(redis.REPL_NONE) "
                 "redis.call('set', KEYS[2], '2') redis.set_repl(redis.REPL_ALL) "
                 "return redis.call('set', KEYS[3], '3')", "3", "x", "y", "z"),
        ("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('incr', KEYS[1]) "
                 "redis.set_repl(redis.REPL_ALL) return redis.call('incr', KEYS[1])", "1", "n"),
    ])


def test_functions_propagate(nodes):  # noqa: F811
    compare(nodes, [
        ("FUNCTION", "LOAD", LIB),
        ("FUNCTION", "LOAD", LIB),
        ("FCALL", "eff_set", "2", "k", "counter", "v"),
        ("FUNCTION", "LOAD", "REPLACE", LIB),
        ("FUNCTION", "DELETE", "eff"),
        ("FUNCTION", "DELETE", "eff"),
        ("FUNCTION", "LOAD", LIB),
        ("FUNCTION", "FLUSH"),
        ("FUNCTION", "FLUSH", "SYNC"),
    ])
