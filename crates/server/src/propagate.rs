//! The effects stream: what executed commands changed, as deterministic
//! commands, for the AOF and for replicas (both consume the same stream).
//!
//! A write command propagates its own arguments unless its handler declared
//! its effect otherwise through [`Ctx::propagate`](crate::commands::Ctx) (SET EX
//! becomes SET PXAT, SPOP becomes SREM, BLPOP becomes LPOP, ...) or declared
//! that it changed nothing. Key deletions the engine decides by itself (lazy
//! and active expiry, eviction) propagate as DEL (or UNLINK with lazyfree).
//!
//! Effects of one top-level execution (a command, an EXEC, a script) are
//! collected while it runs and emitted when it ends; more than one effect is
//! wrapped in MULTI/EXEC so consumers apply them atomically, as Redis does.
//! Each consumer tracks the database its stream has selected and emits SELECT
//! when an effect belongs to another one.

use crate::server::Server;

/// Which consumers an effect goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The AOF and replicas.
    All,
    /// Replicas only (PUBLISH: messages are not data).
    ReplicasOnly,
    /// The AOF only (a script's `redis.set_repl(redis.REPL_AOF)`).
    AofOnly,
}

impl Target {
    fn to_aof(self) -> bool {
        self != Target::ReplicasOnly
    }
    fn to_replicas(self) -> bool {
        self != Target::AofOnly
    }
}

struct Effect {
    db: usize,
    argv: Vec<Vec<u8>>,
    target: Target,
}

#[derive(Default)]
pub struct Propagator {
    /// Nesting of executions in progress (a command, the commands of an EXEC
    /// or a script inside it).
    depth: u32,
    pending: Vec<Effect>,
}

impl Propagator {
    pub fn enter(&mut self) {
        self.depth += 1;
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A key deleted during an execution (lazy expiry): it joins the
    /// execution's effects, ahead of the command that found it expired.
    pub fn record_deletion(&mut self, db: usize, key: &[u8], lazy: bool) {
        self.pending.push(Effect {
            db,
            argv: vec![deletion_command(lazy).to_vec(), key.to_vec()],
            target: Target::All,
        });
    }

    /// How many effects are collected so far: a script marks where the
    /// effects of one of its `redis.call`s start.
    pub fn mark(&self) -> usize {
        self.pending.len()
    }

    /// `redis.set_repl`: the effects collected since `mark` go only to the
    /// chosen consumers (both false: nowhere).
    pub fn restrict_since(&mut self, mark: usize, aof: bool, replicas: bool) {
        if mark >= self.pending.len() {
            return;
        }
        if aof && replicas {
            return;
        }
        let tail: Vec<Effect> = self.pending.drain(mark..).collect();
        for mut e in tail {
            let (a, r) = (aof && e.target.to_aof(), replicas && e.target.to_replicas());
            e.target = match (a, r) {
                (true, true) => Target::All,
                (true, false) => Target::AofOnly,
                (false, true) => Target::ReplicasOnly,
                (false, false) => continue,
            };
            self.pending.push(e);
        }
    }

    /// Whether no execution is in progress (effects are emitted at once).
    pub fn at_top(&self) -> bool {
        self.depth == 0
    }
}

/// Whether anything consumes the stream (an AOF, replicas or a backlog).
/// Handlers use it to skip building effects nobody reads.
pub fn active(srv: &Server) -> bool {
    srv.aof.is_some() || srv.repl.has_stream()
}

/// Records an effect: collected while an execution is in progress, emitted at
/// once otherwise (expiry and eviction from the event loop's cron).
pub fn propagate(srv: &mut Server, db: usize, argv: Vec<Vec<u8>>, target: Target) {
    if !active(srv) {
        return;
    }
    srv.propagator.pending.push(Effect { db, argv, target });
    if srv.propagator.at_top() {
        flush(srv);
    }
}

/// A key the engine deleted by itself (expiry, eviction).
pub fn propagate_deletion(srv: &mut Server, db: usize, key: &[u8], lazy: bool) {
    crate::tracking::key_deleted(srv, key);
    if !active(srv) {
        return;
    }
    propagate(
        srv,
        db,
        vec![deletion_command(lazy).to_vec(), key.to_vec()],
        Target::All,
    );
}

fn deletion_command(lazy: bool) -> &'static [u8] {
    if lazy {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// Emits the collected effects of a finished top-level execution.
pub fn flush(srv: &mut Server) {
    if srv.propagator.pending.is_empty() {
        return;
    }
    let effects = std::mem::take(&mut srv.propagator.pending);
    let wrap = effects.len() > 1;
    let to_aof = effects.iter().any(|e| e.target.to_aof());
    let to_repl = effects.iter().any(|e| e.target.to_replicas());
    if wrap {
        emit_unselected(srv, &[b"MULTI".to_vec()], to_aof, to_repl);
    }
    for e in &effects {
        emit(srv, e.db, &e.argv, e.target.to_aof(), e.target.to_replicas());
    }
    if wrap {
        emit_unselected(srv, &[b"EXEC".to_vec()], to_aof, to_repl);
    }
}

fn emit(srv: &mut Server, db: usize, argv: &[Vec<u8>], to_aof: bool, to_repl: bool) {
    if to_aof {
        if let Some(aof) = srv.aof.as_mut() {
            aof.feed(Some(db), argv);
        }
    }
    if to_repl {
        srv.repl.feed(Some(db), argv);
    }
}

/// MULTI and EXEC belong to no database.
fn emit_unselected(srv: &mut Server, argv: &[Vec<u8>], to_aof: bool, to_repl: bool) {
    if to_aof {
        if let Some(aof) = srv.aof.as_mut() {
            aof.feed(None, argv);
        }
    }
    if to_repl {
        srv.repl.feed(None, argv);
    }
}

/// Appends a command in RESP (a multibulk of bulk strings).
pub fn encode_command(out: &mut Vec<u8>, argv: &[Vec<u8>]) {
    out.push(b'*');
    out.extend_from_slice(argv.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `argv` to a consumer's stream, preceded by SELECT when it belongs to
/// a database other than the one the stream has selected.
pub fn encode_for_stream(out: &mut Vec<u8>, selected: &mut Option<usize>, db: Option<usize>, argv: &[Vec<u8>]) {
    if let Some(db) = db {
        if *selected != Some(db) {
            encode_command(out, &[b"SELECT".to_vec(), db.to_string().into_bytes()]);
            *selected = Some(db);
        }
    }
    encode_command(out, argv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_only_when_the_database_changes() {
        let mut out = Vec::new();
        let mut selected = None;
        encode_for_stream(
            &mut out,
            &mut selected,
            Some(0),
            &[b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()],
        );
        encode_for_stream(&mut out, &mut selected, Some(0), &[b"DEL".to_vec(), b"k".to_vec()]);
        encode_for_stream(&mut out, &mut selected, None, &[b"MULTI".to_vec()]);
        encode_for_stream(&mut out, &mut selected, Some(3), &[b"DEL".to_vec(), b"k".to_vec()]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*1\r\n$5\r\nMULTI\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
        );
    }
}
