//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use super::Ctx;
use crate::client::ClientState;
use crate::server::Server;

pub fn multi(ctx: &mut Ctx, _args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        ctx.out().error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.multi = Some(Vec::new());
    ctx.client.multi_error = false;
    ctx.out().ok();
}

/// Forgets the client's WATCHed keys.
pub fn unwatch_all(srv: &mut Server, c: &mut ClientState) {
    let keys = std::mem::take(&mut c.watched);
    srv.watches.unwatch(c.id, &keys);
}

/// Ends a transaction without running it (DISCARD, RESET, a doomed EXEC).
pub fn discard_transaction(srv: &mut Server, c: &mut ClientState) {
    c.multi = None;
    c.multi_error = false;
    unwatch_all(srv, c);
}

pub fn discard(ctx: &mut Ctx, _args: &[&[u8]]) {
    if ctx.client.multi.is_none() {
        ctx.out().error("ERR DISCARD without MULTI");
        return;
    }
    discard_transaction(ctx.srv, ctx.client);
    ctx.out().ok();
}

/// Whether something a transaction WATCHes changed since WATCH.
fn watch_broken(ctx: &mut Ctx) -> bool {
    if ctx.srv.watches.is_dirty(ctx.client.id) {
        return true;
    }
    let now = ctx.now();
    ctx.client
        .watched
        .iter()
        .any(|(db, key, existed)| ctx.srv.keyspace.dbs[*db].peek(key, now).is_some() != *existed)
}

pub fn exec(ctx: &mut Ctx, _args: &[&[u8]]) {
    if ctx.client.multi.is_none() {
        ctx.out().error("ERR EXEC without MULTI");
        return;
    }
    if ctx.client.multi_error {
        discard_transaction(ctx.srv, ctx.client);
        ctx.out()
            .error("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if watch_broken(ctx) {
        discard_transaction(ctx.srv, ctx.client);
        ctx.out().null_array();
        return;
    }
    let queue = ctx.client.multi.take().unwrap_or_default();
    unwatch_all(ctx.srv, ctx.client);
    ctx.out().array(queue.len());
    ctx.client.in_exec = true;
    for cmd in &queue {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        crate::dispatch::execute(ctx.srv, ctx.client, &args);
    }
    ctx.client.in_exec = false;
}

pub fn watch(ctx: &mut Ctx, args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        ctx.out().error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.client.db;
    let now = ctx.now();
    for key in &args[1..] {
        if ctx
            .client
            .watched
            .iter()
            .any(|(d, k, _)| *d == db && k.as_slice() == *key)
        {
            continue;
        }
        let exists = ctx.srv.keyspace.dbs[db].peek(key, now).is_some();
        ctx.client.watched.push((db, key.to_vec(), exists));
        ctx.srv.watches.watch(ctx.client.id, db, key);
    }
    ctx.out().ok();
}

pub fn unwatch(ctx: &mut Ctx, _args: &[&[u8]]) {
    unwatch_all(ctx.srv, ctx.client);
    ctx.out().ok();
}
