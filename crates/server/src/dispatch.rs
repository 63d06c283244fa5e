//! Running one command: lookup, arity and auth checks, execution, and the
//! bookkeeping Redis does around it (commandstats, errorstats, SLOWLOG, LATENCY,
//! MONITOR, CLIENT REPLY).

use crate::client::{ClientState, ReplyMode};
use crate::clock;
use crate::commands::{find_subcommand, flag, unknown_subcommand, wrong_arity, CommandSpec, Ctx};
use crate::server::{unix_ms, unix_us, Server};

/// stop-writes-on-bgsave-error: the last background save failed.
const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Resolves the command (or subcommand) the arguments name, or writes the error a
/// client gets for an unknown command or subcommand.
fn resolve(srv: &Server, c: &mut ClientState, args: &[&[u8]]) -> Option<&'static CommandSpec> {
    let Some(spec) = srv.commands.get(args[0]) else {
        let mut listed = String::new();
        for a in args[1..].iter().map(|a| until_nul(a)) {
            if listed.len() >= 128 {
                break;
            }
            let room = 128 - listed.len();
            let text = String::from_utf8_lossy(a);
            let cut: String = text.chars().take(room).collect();
            listed.push_str(&format!("'{cut}' "));
        }
        let name: String = String::from_utf8_lossy(until_nul(args[0])).chars().take(128).collect();
        c.out.error(&format!(
            "ERR unknown command '{name}', with args beginning with: {listed}"
        ));
        return None;
    };
    if spec.subcommands.is_empty() || (args.len() < 2 && spec.handler.is_some()) {
        return Some(spec);
    }
    if args.len() < 2 {
        wrong_arity(&mut c.out, spec.name);
        return None;
    }
    match find_subcommand(spec, args[1]) {
        Some(sub) => Some(sub),
        None => {
            unknown_subcommand(&mut c.out, args[1], &String::from_utf8_lossy(args[0]));
            None
        }
    }
}

/// The bytes before the first NUL: Redis formats these messages with C's `%s`,
/// which stops at a NUL byte.
pub fn until_nul(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |i| &a[..i])
}

/// Whether CLIENT PAUSE holds this command back.
pub fn blocked_by_pause(srv: &Server, args: &[&[u8]]) -> bool {
    let Some((kind, until)) = srv.pause else {
        return false;
    };
    if unix_ms() >= until {
        return false;
    }
    match kind {
        crate::server::PauseKind::All => true,
        crate::server::PauseKind::Write => match srv.commands.get(args[0]) {
            Some(spec) => {
                let spec = if !spec.subcommands.is_empty() && args.len() > 1 {
                    find_subcommand(spec, args[1]).unwrap_or(spec)
                } else {
                    spec
                };
                spec.has(flag::WRITE | flag::MAY_REPLICATE)
            }
            None => false,
        },
    }
}

/// Executes one command for a client, writing its reply to the client's output.
/// `srv.now_ms` must be current (the event loop refreshes it per batch of input).
pub fn execute(srv: &mut Server, c: &mut ClientState, args: &[&[u8]]) {
    c.last_interaction_ms = srv.now_ms;
    if c.reply_mode == ReplyMode::SkipNext {
        c.reply_mode = ReplyMode::Skipping;
    }
    let suppress = matches!(c.reply_mode, ReplyMode::Off | ReplyMode::Skipping);
    let out_mark = c.out.len();
    if srv.tracking.active() {
        crate::tracking::before_execute(srv, c, args);
    }

    run(srv, c, args);

    for code in c.out.take_errors() {
        srv.stats.total_error_replies += 1;
        *srv.stats.errors.entry(code).or_insert(0) += 1;
    }
    // CLIENT REPLY ON turns replies back on for its own +OK.
    if suppress && c.reply_mode != ReplyMode::On {
        c.out.buf.truncate(out_mark);
        if c.reply_mode == ReplyMode::Skipping {
            c.reply_mode = ReplyMode::On;
        }
    }
    // Client-side caching: the caller's own invalidations follow its reply.
    if srv.tracking.active() {
        crate::tracking::after_execute(srv, c, args, out_mark);
    }
}

/// Commands a RESP2 client may send while subscribed.
fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "psubscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "punsubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

fn run(srv: &mut Server, c: &mut ClientState, args: &[&[u8]]) {
    // A command refused before it could be queued (unknown, arity, auth,
    // not allowed in MULTI) dooms the transaction: EXEC answers EXECABORT.
    let refuse = |c: &mut ClientState| {
        if c.multi.is_some() {
            c.multi_error = true;
        }
    };
    let Some(spec) = resolve(srv, c, args) else {
        refuse(c);
        return;
    };
    let reject = |srv: &mut Server, spec: &CommandSpec| {
        srv.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
    };
    if !spec.arity_ok(args.len()) {
        wrong_arity(&mut c.out, spec.name);
        reject(srv, spec);
        refuse(c);
        return;
    }
    if !c.authenticated && srv.auth_required() && !spec.has(flag::NO_AUTH) {
        c.out.error("NOAUTH Authentication required.");
        reject(srv, spec);
        refuse(c);
        return;
    }
    // ACL: one string comparison for the default user while it may run anything
    // (our master's stream is not checked, as in Redis).
    if !srv.acl.unrestricted(&c.user) && !c.master && !crate::commands::acl::check_command(srv, c, spec, args) {
        if !c.in_exec {
            reject(srv, spec);
            refuse(c);
        }
        return;
    }
    if srv.repl.master.is_some() && !c.master {
        if srv.config.replica_read_only && spec.has(flag::WRITE) {
            c.out.error("READONLY You can't write against a read only replica.");
            reject(srv, spec);
            refuse(c);
            return;
        }
        let link_up = srv
            .repl
            .master
            .as_ref()
            .is_some_and(|l| l.state == crate::replication::LinkState::Connected);
        if !link_up && !srv.config.replica_serve_stale_data && !spec.has(flag::STALE) {
            c.out
                .error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
            reject(srv, spec);
            refuse(c);
            return;
        }
    }
    if srv.repl.master.is_none()
        && srv.config.min_replicas_to_write > 0
        && srv.config.min_replicas_max_lag > 0
        && spec.has(flag::WRITE)
        && crate::replication::good_replicas(srv) < srv.config.min_replicas_to_write as usize
    {
        c.out.error("NOREPLICAS Not enough good replicas to write.");
        reject(srv, spec);
        refuse(c);
        return;
    }
    if !c.out.is_resp3() && c.subscribed() && !allowed_when_subscribed(spec) {
        c.out.error(&format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        ));
        refuse(c);
        return;
    }
    if srv.loading.is_some() && !spec.has(flag::LOADING) {
        c.out.error("LOADING Redis is loading the dataset in memory");
        reject(srv, spec);
        refuse(c);
        return;
    }
    if c.multi.is_some() && !runs_inside_multi(spec) {
        if spec.has(flag::NO_MULTI) {
            c.out.error("ERR Command not allowed inside a transaction");
            refuse(c);
            return;
        }
        if let Some(queue) = c.multi.as_mut() {
            queue.push(args.iter().map(|a| a.to_vec()).collect());
        }
        c.out.simple("QUEUED");
        return;
    }
    if srv.config.maxmemory > 0 && !crate::evict::perform_evictions(srv) && spec.has(flag::DENYOOM) {
        c.out.error("OOM command not allowed when used memory > 'maxmemory'.");
        reject(srv, spec);
        return;
    }
    if !c.master && (spec.has(flag::WRITE) || spec.name == "ping") {
        if srv.config.stop_writes_on_bgsave_error && !srv.config.save.is_empty() && !srv.last_bgsave_ok {
            c.out.error(MISCONF_RDB);
            reject(srv, spec);
            return;
        }
        if let Some(e) = srv.aof.as_ref().and_then(|_| crate::aof::write_error(srv)) {
            c.out.error(&e);
            reject(srv, spec);
            return;
        }
    }
    let Some(handler) = spec.handler else {
        return;
    };
    if srv.snapshot.is_some() && spec.has(flag::WRITE) {
        keep_snapshot_point_in_time(srv, spec, c.db, args);
    }
    c.last_cmd = spec.name;
    let errors_before = c.out.has_errors();
    let started = clock::now();
    c.effects = None;
    c.changes = None;
    let out_before = c.out.len();
    srv.propagator.enter();
    handler(&mut Ctx { srv, client: c }, args);
    srv.propagator.leave();
    if srv.notify.has_pending() {
        crate::notify::flush_self_at(srv, c, out_before);
    }
    // Client-side caching: remember keys read, invalidate keys changed.
    if srv.tracking.active() {
        crate::tracking::after_command(srv, spec, c, args, out_before);
    }
    let micros = clock::micros_since(started);
    record_effects(srv, spec, c, args);
    // Like Redis 7, MONITOR sees a command after it ran (SELECT shows its new db).
    if !srv.monitors.is_empty() && !spec.has(flag::ADMIN | flag::SKIP_MONITOR) {
        feed_monitors(srv, c, args);
    }
    if spec.has(flag::WRITE) && !c.out.has_errors() && c.block_request.is_none() {
        srv.dirty += c.changes.unwrap_or(1);
    }
    // A command that parked its client changed nothing: it must not wake anyone
    // (a parked command that is re-run and parks again would otherwise loop).
    if spec.has(flag::WRITE) && c.block_request.is_none() && !(srv.blocking.is_empty() && srv.watches.is_empty()) {
        signal_written_keys(srv, spec, c.db, args);
    }

    srv.stats.commands_processed += 1;
    let track_latency = srv.config.latency_tracking;
    let st = srv.stats.commands.entry(spec.name).or_default();
    st.calls += 1;
    st.usec += micros;
    if track_latency {
        st.record_latency_ns(micros * 1000);
    }
    if !errors_before && c.out.has_errors() {
        st.failed_calls += 1;
    }
    let slower_than = srv.config.slowlog_log_slower_than;
    if slower_than >= 0 && micros >= slower_than as u64 && !spec.has(flag::SKIP_SLOWLOG) {
        let name = c.name.clone().unwrap_or_default();
        let max_len = srv.config.slowlog_max_len as usize;
        srv.slowlog.push(args, micros, c.addr.to_string(), name, max_len);
    }
    let event = if spec.has(flag::FAST) {
        "fast-command"
    } else {
        "command"
    };
    srv.latency
        .record(event, micros / 1000, srv.config.latency_monitor_threshold);
}

/// Adds what a command changed to the effects stream: the effects its handler
/// declared, or else its own arguments when it is a write that succeeded.
/// Commands that run other commands (EXEC, scripts) propagate those instead.
fn record_effects(srv: &mut Server, spec: &CommandSpec, c: &mut ClientState, args: &[&[u8]]) {
    use crate::propagate::{propagate, Target};
    if crate::propagate::active(srv) && c.block_request.is_none() && !c.out.has_errors() {
        match c.effects.take() {
            Some(effects) => {
                // Collected, not emitted one by one: more than one effect of a
                // command is wrapped in MULTI/EXEC by the flush below.
                srv.propagator.enter();
                for argv in effects {
                    propagate(srv, c.db, argv, Target::All);
                }
                srv.propagator.leave();
            }
            None if spec.has(flag::WRITE) => {
                propagate(srv, c.db, args.iter().map(|a| a.to_vec()).collect(), Target::All);
            }
            None if matches!(spec.name, "publish" | "spublish") => {
                propagate(
                    srv,
                    c.db,
                    args.iter().map(|a| a.to_vec()).collect(),
                    Target::ReplicasOnly,
                );
            }
            None => {}
        }
    }
    c.effects = None;
    if srv.propagator.at_top() {
        crate::propagate::flush(srv);
    }
}

/// Tells parked clients and WATCHers which keys a write command touched.
/// Commands whose keys are not at fixed positions, or that move keys between
/// databases, touch everything: parked commands re-check anyway, and a
/// transaction is aborted rather than run on changed data. (FLUSHALL and
/// FLUSHDB need no touching for WATCH: EXEC notices watched keys vanishing.)
fn signal_written_keys(srv: &mut Server, spec: &CommandSpec, db: usize, args: &[&[u8]]) {
    let positions = spec.all_key_positions(args).unwrap_or_default();
    if positions.is_empty() || matches!(spec.name, "move" | "copy" | "swapdb") {
        srv.blocking.signal_all();
        if !matches!(spec.name, "flushall" | "flushdb") {
            srv.watches.touch_all();
        }
    } else {
        for p in positions {
            srv.blocking.signal(db, args[p]);
            srv.watches.touch(db, args[p]);
        }
    }
}

/// A BGSAVE is running: save the keys this write names before it changes them;
/// commands that change other keys make the snapshot finish first.
fn keep_snapshot_point_in_time(srv: &mut Server, spec: &CommandSpec, db: usize, args: &[&[u8]]) {
    if spec.name == "flushall" {
        // Only a FLUSHALL that will run.
        if crate::commands::keyspace::flush_args_valid(args) {
            crate::snapshot::before_flushall(srv);
        }
        return;
    }
    match spec.name {
        // The handlers tell the snapshot (old contents, swapped databases).
        "flushdb" | "swapdb" => return,
        // The key may also change in another database.
        "move" | "copy" => {
            let (key, other) = if spec.name == "move" {
                (args.get(1), args.get(2).copied())
            } else {
                let db_opt = args.iter().skip(3).position(|a| a.eq_ignore_ascii_case(b"db"));
                (args.get(2), db_opt.and_then(|i| args.get(4 + i).copied()))
            };
            let Some(key) = key else { return };
            crate::snapshot::before_write(srv, db, Some(&[key]));
            let other = other
                .and_then(shoal_util::num::parse_i64)
                .filter(|&n| n >= 0 && (n as usize) < srv.keyspace.dbs.len());
            if let Some(n) = other {
                crate::snapshot::before_write(srv, n as usize, Some(&[key]));
            }
            return;
        }
        _ => {}
    }
    match spec.all_key_positions(args) {
        Some(positions) if !positions.is_empty() => {
            let keys: Vec<&[u8]> = positions.iter().map(|&p| args[p]).collect();
            crate::snapshot::before_write(srv, db, Some(&keys));
        }
        _ => crate::snapshot::before_write(srv, db, None),
    }
}

/// Sends a command to every MONITOR client, in Redis's format.
fn feed_monitors(srv: &mut Server, c: &ClientState, args: &[&[u8]]) {
    let us = unix_us();
    let mut line = format!("{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, c.db, c.addr);
    for a in args {
        line.push(' ');
        line.push_str(&shoal_util::quote::repr(a));
    }
    let monitors = srv.monitors.clone();
    for id in monitors {
        if id == c.id {
            continue;
        }
        if let Some(idx) = srv.clients.index_of(id) {
            if let Some(m) = srv.clients.get_mut(idx) {
                m.state.out.simple(&line);
                srv.pending_writes.push(idx);
            }
        }
    }
}
