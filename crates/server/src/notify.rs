//! Keyspace notifications (`notify-keyspace-events`), as Redis 7.0 sends them.
//!
//! A command that changes a key calls [`notify`] with the event's class (one
//! of the [`class`] bits) and name. When the configured classes include it,
//! the event is published like a PUBLISH: on `__keyspace@<db>__:<key>` with the
//! event as the message (class `K`), and on `__keyevent@<db>__:<event>` with the
//! key as the message (class `E`). While notifications are off (the default)
//! a call costs one test of a configuration word.
//!
//! Subscribers get the message in their output buffer at once, so a RESP3
//! client subscribed to its own events sees the push where Redis 7.0 puts it
//! relative to the command's reply. The client running a command is out of the
//! client table; calls that have it ([`notify_ctx`]) write to it directly,
//! others (lazy expiry inside a lookup, eviction, a script's commands) leave
//! its messages in [`Notifier`] until its next event or the end of the
//! command, when they are put before its reply ([`flush_self_at`]).

use crate::client::ClientState;
use crate::commands::pubsub::{receivers, write_message};
use crate::commands::Ctx;
use crate::server::Server;
use shoal_config::KeyspaceEvents;

/// Event classes (the letters of `notify-keyspace-events`).
pub mod class {
    use shoal_config::KeyspaceEvents as K;
    /// `g`: DEL, EXPIRE, RENAME, COPY, MOVE, RESTORE...
    pub const GENERIC: u32 = K::GENERIC;
    /// `$`
    pub const STRING: u32 = K::STRING;
    /// `l`
    pub const LIST: u32 = K::LIST;
    /// `s`
    pub const SET: u32 = K::SET;
    /// `h`
    pub const HASH: u32 = K::HASH;
    /// `z`
    pub const ZSET: u32 = K::ZSET;
    /// `x`: a key expired.
    pub const EXPIRED: u32 = K::EXPIRED;
    /// `e`: a key was evicted.
    pub const EVICTED: u32 = K::EVICTED;
    /// `t`
    pub const STREAM: u32 = K::STREAM;
    /// `n`: a key was created.
    pub const NEW: u32 = K::NEW;
    /// `m`: a read found no key.
    pub const MISS: u32 = K::MISS;
}

/// A message for the running client, held until it writes its reply.
struct Pending {
    client: u64,
    pattern: Option<Vec<u8>>,
    channel: Vec<u8>,
    message: Vec<u8>,
}

#[derive(Default)]
pub struct Notifier {
    pending: Vec<Pending>,
}

impl Notifier {
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// Publishes a keyspace event about `key` in database `db`. `me` is the client
/// running the command, if any (it is not in the client table).
#[inline]
pub fn notify(srv: &mut Server, me: Option<&mut ClientState>, class: u32, event: &str, db: usize, key: &[u8]) {
    if srv.config.notify_keyspace_events.0 & class == 0 {
        return;
    }
    publish_event(srv, me, event, db, key);
}

/// [`notify`] for the calling client's database, from a command.
#[inline]
pub fn notify_ctx(ctx: &mut Ctx, class: u32, event: &str, key: &[u8]) {
    if ctx.srv.config.notify_keyspace_events.0 & class == 0 {
        return;
    }
    let db = ctx.client.db;
    publish_event(ctx.srv, Some(ctx.client), event, db, key);
}

/// Whether any of the classes is enabled (to skip building event lists).
#[inline]
pub fn enabled(srv: &Server, class: u32) -> bool {
    srv.config.notify_keyspace_events.0 & class != 0
}

#[cold]
#[inline(never)]
fn publish_event(srv: &mut Server, mut me: Option<&mut ClientState>, event: &str, db: usize, key: &[u8]) {
    // Events held for the running client (a lazy expiry) come first.
    if let Some(c) = me.as_deref_mut() {
        if srv.notify.has_pending() {
            flush_self(srv, c);
        }
    }
    let flags = srv.config.notify_keyspace_events.0;
    if flags & KeyspaceEvents::KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        publish(srv, me.as_deref_mut(), &channel, event.as_bytes());
    }
    if flags & KeyspaceEvents::KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}").into_bytes();
        publish(srv, me, &channel, key);
    }
}

fn deliver(
    srv: &mut Server,
    me: Option<&mut ClientState>,
    id: u64,
    pattern: Option<&[u8]>,
    channel: &[u8],
    message: &[u8],
) {
    if let Some(me) = me {
        if me.id == id {
            write_message(&mut me.out, pattern, channel, message);
            return;
        }
    }
    let Some(idx) = srv.clients.index_of(id) else {
        return;
    };
    match srv.clients.get_mut(idx) {
        Some(c) => {
            write_message(&mut c.state.out, pattern, channel, message);
            srv.pending_writes.push(idx);
        }
        // Out of the table: the client running the command.
        None => srv.notify.pending.push(Pending {
            client: id,
            pattern: pattern.map(|p| p.to_vec()),
            channel: channel.to_vec(),
            message: message.to_vec(),
        }),
    }
}

/// Delivers to channel subscribers, then to matching patterns (as PUBLISH).
fn publish(srv: &mut Server, mut me: Option<&mut ClientState>, channel: &[u8], message: &[u8]) {
    for (pattern, id) in receivers(srv, channel) {
        deliver(srv, me.as_deref_mut(), id, pattern.as_deref(), channel, message);
    }
}

/// After a command: the messages still held for its client `c` (events of a
/// lazy expiry, or of a script's commands) go before its reply, which starts
/// at `reply_start` in its output, where Redis would have written them.
#[cold]
#[inline(never)]
pub fn flush_self_at(srv: &mut Server, c: &mut ClientState, reply_start: usize) {
    let at = reply_start.min(c.out.buf.len());
    let tail = c.out.buf.split_off(at);
    flush_self(srv, c);
    c.out.buf.extend_from_slice(&tail);
}

/// Writes the messages held for the running client `c` into its output.
/// Messages for another client still out of the table (a script's caller)
/// stay; those for a client that is gone are dropped.
#[cold]
#[inline(never)]
pub fn flush_self(srv: &mut Server, c: &mut ClientState) {
    for p in std::mem::take(&mut srv.notify.pending) {
        if p.client == c.id {
            write_message(&mut c.out, p.pattern.as_deref(), &p.channel, &p.message);
        } else if srv
            .clients
            .index_of(p.client)
            .is_some_and(|idx| srv.clients.get(idx).is_none())
        {
            srv.notify.pending.push(p);
        }
    }
}
