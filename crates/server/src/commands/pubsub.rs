//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
//! SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB. Messages are written straight
//! into each subscriber's output buffer (a push in RESP3, an array in RESP2).

use super::{help_reply, Ctx};
use crate::client::ClientState;
use crate::pubsub::Space;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_util::glob::glob_match;

fn names(space: Space) -> (&'static str, &'static str) {
    match space {
        Space::Channel => ("subscribe", "unsubscribe"),
        Space::Pattern => ("psubscribe", "punsubscribe"),
        Space::Shard => ("ssubscribe", "sunsubscribe"),
    }
}

fn list_mut(c: &mut ClientState, space: Space) -> &mut Vec<Vec<u8>> {
    match space {
        Space::Channel => &mut c.channels,
        Space::Pattern => &mut c.patterns,
        Space::Shard => &mut c.shard_channels,
    }
}

/// The count Redis reports after (un)subscribing: channels + patterns, or the
/// shard channels for the shard commands.
fn count(c: &ClientState, space: Space) -> i64 {
    match space {
        Space::Shard => c.shard_channels.len() as i64,
        _ => (c.channels.len() + c.patterns.len()) as i64,
    }
}

fn confirmation(out: &mut Reply, kind: &str, name: Option<&[u8]>, n: i64) {
    out.push(3);
    out.bulk(kind.as_bytes());
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(n);
}

fn subscribe_generic(ctx: &mut Ctx, args: &[&[u8]], space: Space) {
    let id = ctx.client.id;
    for name in &args[1..] {
        let list = list_mut(ctx.client, space);
        if !list.iter().any(|n| n.as_slice() == *name) {
            list.push(name.to_vec());
            ctx.srv.pubsub.add(space, name, id);
        }
        let n = count(ctx.client, space);
        confirmation(&mut ctx.client.out, names(space).0, Some(name), n);
    }
}

/// Removes subscriptions (all when `which` is empty), confirming each.
fn unsubscribe_generic(srv: &mut Server, c: &mut ClientState, which: &[&[u8]], space: Space, reply: bool) {
    let targets: Vec<Vec<u8>> = if which.is_empty() {
        list_mut(c, space).clone()
    } else {
        which.iter().map(|w| w.to_vec()).collect()
    };
    if targets.is_empty() && reply {
        let n = count(c, space);
        confirmation(&mut c.out, names(space).1, None, n);
        return;
    }
    for name in targets {
        list_mut(c, space).retain(|n| *n != name);
        srv.pubsub.remove(space, &name, c.id);
        if reply {
            let n = count(c, space);
            confirmation(&mut c.out, names(space).1, Some(&name), n);
        }
    }
}

/// Drops every subscription of a client (RESET, disconnect), without replies.
pub fn unsubscribe_all(srv: &mut Server, c: &mut ClientState) {
    for space in [Space::Channel, Space::Pattern, Space::Shard] {
        unsubscribe_generic(srv, c, &[], space, false);
    }
}

pub fn subscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_generic(ctx, args, Space::Channel)
}
pub fn psubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_generic(ctx, args, Space::Pattern)
}
pub fn ssubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_generic(ctx, args, Space::Shard)
}
pub fn unsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_generic(ctx.srv, ctx.client, &args[1..], Space::Channel, true)
}
pub fn punsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_generic(ctx.srv, ctx.client, &args[1..], Space::Pattern, true)
}
pub fn sunsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_generic(ctx.srv, ctx.client, &args[1..], Space::Shard, true)
}

/// Writes one message into a subscriber's output, whether it is the calling
/// client (taken out of the client table while it runs) or another one.
fn deliver(srv: &mut Server, me: &mut ClientState, id: u64, write: &dyn Fn(&mut Reply)) {
    if id == me.id {
        write(&mut me.out);
        return;
    }
    if let Some(idx) = srv.clients.index_of(id) {
        if let Some(c) = srv.clients.get_mut(idx) {
            write(&mut c.state.out);
            srv.pending_writes.push(idx);
        }
    }
}

/// Who receives a message published on `channel`, in PUBLISH's order: the
/// channel's subscribers, then each matching pattern's (with the pattern).
pub fn receivers(srv: &Server, channel: &[u8]) -> Vec<(Option<Vec<u8>>, u64)> {
    let mut out: Vec<(Option<Vec<u8>>, u64)> = srv
        .pubsub
        .channels
        .get(channel)
        .map(|ids| ids.iter().map(|&id| (None, id)).collect())
        .unwrap_or_default();
    for (pattern, ids) in srv.pubsub.patterns.iter() {
        if glob_match(pattern, channel, false) {
            out.extend(ids.iter().map(|&id| (Some(pattern.clone()), id)));
        }
    }
    out
}

/// A `message` (or, for a pattern subscription, `pmessage`) push.
pub fn write_message(out: &mut Reply, pattern: Option<&[u8]>, channel: &[u8], message: &[u8]) {
    match pattern {
        None => {
            out.push(3);
            out.bulk(b"message");
        }
        Some(p) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
    }
    out.bulk(channel);
    out.bulk(message);
}

/// Publishes to channel subscribers and matching patterns; returns receivers.
pub fn publish_message(srv: &mut Server, me: &mut ClientState, channel: &[u8], message: &[u8]) -> i64 {
    let receivers = receivers(srv, channel);
    for (pattern, id) in &receivers {
        deliver(srv, me, *id, &|out: &mut Reply| {
            write_message(out, pattern.as_deref(), channel, message)
        });
    }
    receivers.len() as i64
}

pub fn publish(ctx: &mut Ctx, args: &[&[u8]]) {
    let n = publish_message(ctx.srv, ctx.client, args[1], args[2]);
    ctx.out().int(n);
}

pub fn spublish(ctx: &mut Ctx, args: &[&[u8]]) {
    let subscribers = ctx.srv.pubsub.shard_channels.get(args[1]).cloned().unwrap_or_default();
    let n = subscribers.len() as i64;
    for id in subscribers {
        deliver(ctx.srv, ctx.client, id, &|out: &mut Reply| {
            out.push(3);
            out.bulk(b"smessage");
            out.bulk(args[1]);
            out.bulk(args[2]);
        });
    }
    ctx.out().int(n);
}

fn channels_reply(ctx: &mut Ctx, args: &[&[u8]], shard: bool) {
    let pattern = args.get(2).copied();
    let map = if shard {
        &ctx.srv.pubsub.shard_channels
    } else {
        &ctx.srv.pubsub.channels
    };
    let names: Vec<Vec<u8>> = map
        .keys()
        .filter(|k| pattern.is_none_or(|p| glob_match(p, k, false)))
        .cloned()
        .collect();
    let out = &mut ctx.client.out;
    out.array(names.len());
    for n in names {
        out.bulk(&n);
    }
}

fn numsub_reply(ctx: &mut Ctx, args: &[&[u8]], shard: bool) {
    let map = if shard {
        &ctx.srv.pubsub.shard_channels
    } else {
        &ctx.srv.pubsub.channels
    };
    let counts: Vec<i64> = args[2..]
        .iter()
        .map(|c| map.get(*c).map_or(0, |v| v.len() as i64))
        .collect();
    let out = &mut ctx.client.out;
    out.array(2 * counts.len());
    for (name, n) in args[2..].iter().zip(counts) {
        out.bulk(name);
        out.int(n);
    }
}

pub fn pubsub_channels(ctx: &mut Ctx, args: &[&[u8]]) {
    channels_reply(ctx, args, false)
}
pub fn pubsub_shardchannels(ctx: &mut Ctx, args: &[&[u8]]) {
    channels_reply(ctx, args, true)
}
pub fn pubsub_numsub(ctx: &mut Ctx, args: &[&[u8]]) {
    numsub_reply(ctx, args, false)
}
pub fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[&[u8]]) {
    numsub_reply(ctx, args, true)
}
pub fn pubsub_numpat(ctx: &mut Ctx, _args: &[&[u8]]) {
    let n = ctx.srv.pubsub.numpat() as i64;
    ctx.out().int(n);
}

pub fn pubsub_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
}
