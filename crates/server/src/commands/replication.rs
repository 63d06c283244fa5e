//! Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, and the internal
//! PSYNC/SYNC/REPLCONF a replica sends its master. The state machine itself
//! lives in [`crate::replication`].

use super::{eq_ic, parse_int, Ctx};
use crate::replication::{self, LinkState};

pub fn replicaof(ctx: &mut Ctx, args: &[&[u8]]) {
    if ctx.srv.config.cluster_enabled {
        ctx.out().error("ERR REPLICAOF not allowed in cluster mode.");
        return;
    }
    if eq_ic(args[1], "no") && eq_ic(args[2], "one") {
        if ctx.srv.repl.master.is_some() {
            replication::promote(ctx.srv);
        }
        ctx.out().ok();
        return;
    }
    if ctx.client.replica {
        ctx.out().error("ERR Command is not valid when client is a replica.");
        return;
    }
    let port = match parse_int(args[2]) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ => {
            ctx.out().error("ERR Invalid master port");
            return;
        }
    };
    let host = String::from_utf8_lossy(args[1]).into_owned();
    if let Some(link) = &ctx.srv.repl.master {
        if link.host.eq_ignore_ascii_case(&host) && link.port == port {
            ctx.out().simple("OK Already connected to specified master");
            return;
        }
    }
    replication::set_master(ctx.srv, host, port);
    ctx.out().ok();
}

pub fn role(ctx: &mut Ctx, _args: &[&[u8]]) {
    let srv = &*ctx.srv;
    match &srv.repl.master {
        None => {
            let offset = srv.repl.master_repl_offset;
            let replicas: Vec<(String, u16, i64)> = srv
                .repl
                .replicas
                .iter()
                .filter(|r| matches!(r.state, replication::SyncState::Online))
                .map(|r| (r.ip.clone(), r.listening_port, r.ack_offset))
                .collect();
            let out = &mut ctx.client.out;
            out.array(3);
            out.bulk(b"master");
            out.int(offset);
            out.array(replicas.len());
            for (ip, port, ack) in replicas {
                out.array(3);
                out.bulk(ip.as_bytes());
                out.bulk(port.to_string().as_bytes());
                out.bulk(ack.to_string().as_bytes());
            }
        }
        Some(link) => {
            let state = match link.state {
                LinkState::Connect => "connect",
                LinkState::Syncing => "sync",
                LinkState::Connected => "connected",
            };
            let offset = if link.state == LinkState::Connected {
                srv.repl.master_repl_offset
            } else {
                -1
            };
            let host = link.host.clone();
            let port = link.port as i64;
            let out = &mut ctx.client.out;
            out.array(5);
            out.bulk(b"slave");
            out.bulk(host.as_bytes());
            out.int(port);
            out.bulk(state.as_bytes());
            out.int(offset);
        }
    }
}

pub fn wait(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(wanted) = parse_int(args[1]) else {
        ctx.out().error("ERR value is not an integer or out of range");
        return;
    };
    let timeout = match parse_int(args[2]) {
        Some(t) if t >= 0 => t,
        Some(_) => {
            ctx.out().error("ERR timeout is negative");
            return;
        }
        None => {
            ctx.out().error("ERR timeout is not an integer or out of range");
            return;
        }
    };
    if ctx.srv.repl.master.is_some() {
        ctx.out()
            .error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    let offset = ctx.srv.repl.master_repl_offset;
    let acked = replication::replicas_acked(ctx.srv, offset);
    if acked as i64 >= wanted || ctx.client.in_exec {
        ctx.out().int(acked as i64);
        return;
    }
    let deadline = (timeout > 0).then(|| ctx.now().saturating_add(timeout));
    ctx.srv
        .repl
        .waits
        .insert(ctx.client.id, (wanted.max(0) as usize, offset));
    replication::request_acks(ctx.srv);
    ctx.client.block_request = Some(crate::client::BlockRequest {
        keys: Vec::new(),
        deadline_ms: deadline,
    });
}

/// The reply a parked WAIT gets when it is released (replicas caught up, timeout).
pub fn wait_released(srv: &mut crate::server::Server, c: &mut crate::client::ClientState) {
    let offset = srv.repl.waits.remove(&c.id).map_or(0, |(_, off)| off);
    let acked = replication::replicas_acked(srv, offset);
    c.out.int(acked as i64);
}

pub fn replconf(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len().is_multiple_of(2) {
        ctx.out().error("ERR syntax error");
        return;
    }
    let mut i = 1;
    while i + 1 < args.len() {
        let (opt, val) = (args[i], args[i + 1]);
        if eq_ic(opt, "listening-port") {
            match parse_int(val) {
                Some(p) if (0..=65535).contains(&p) => ctx.client.replica_listening_port = p as u16,
                _ => {
                    ctx.out().error("ERR value is not an integer or out of range");
                    return;
                }
            }
        } else if eq_ic(opt, "ack") {
            // Replicas' ACKs get no reply.
            if ctx.client.replica {
                if let Some(off) = parse_int(val) {
                    replication::replica_ack(ctx.srv, ctx.client.id, off);
                }
            }
            return;
        } else if eq_ic(opt, "getack") {
            if ctx.client.master {
                let offset = ctx.srv.repl.master_repl_offset;
                let mut msg = Vec::new();
                crate::propagate::encode_command(
                    &mut msg,
                    &[b"REPLCONF".to_vec(), b"ACK".to_vec(), offset.to_string().into_bytes()],
                );
                ctx.srv.repl.ack_to_master.push(msg);
            }
            return;
        } else if eq_ic(opt, "capa") {
            if eq_ic(val, "eof") {
                ctx.client.replica_capa_eof = true;
            }
        } else if eq_ic(opt, "ip-address") || eq_ic(opt, "rdb-only") || eq_ic(opt, "rdb-filter-only") {
            // Accepted and not needed by this master.
        } else {
            ctx.out().error(&format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            ));
            return;
        }
        i += 2;
    }
    ctx.out().ok();
}

fn sync_refused(ctx: &mut Ctx) -> bool {
    if ctx.client.replica {
        return true;
    }
    if let Some(link) = &ctx.srv.repl.master {
        if link.state != LinkState::Connected {
            ctx.out()
                .error("NOMASTERLINK Can't SYNC while not connected with my master");
            return true;
        }
    }
    false
}

pub fn psync(ctx: &mut Ctx, args: &[&[u8]]) {
    if sync_refused(ctx) {
        return;
    }
    let offset = parse_int(args[2]).unwrap_or(-1);
    let reply = replication::attach_replica(ctx.srv, ctx.client, Some((args[1], offset)));
    ctx.client.out.buf.extend_from_slice(&reply);
}

pub fn sync(ctx: &mut Ctx, _args: &[&[u8]]) {
    if sync_refused(ctx) {
        return;
    }
    let reply = replication::attach_replica(ctx.srv, ctx.client, None);
    ctx.client.out.buf.extend_from_slice(&reply);
}
