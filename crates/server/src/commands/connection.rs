//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO.

use super::{eq_ic, err, Ctx};
use crate::client::ReplyMode;
use crate::server::VERSION;
use shoal_resp::Protocol;

pub fn ping(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() <= 2 && ctx.client.subscribed() && !ctx.client.out.is_resp3() {
        // In the RESP2 Pub/Sub context PING answers like a message.
        let out = ctx.out();
        out.array(2);
        out.bulk(b"pong");
        out.bulk(args.get(1).copied().unwrap_or(b""));
        return;
    }
    match args.len() {
        1 => ctx.out().simple("PONG"),
        2 => ctx.out().bulk(args[1]),
        _ => super::wrong_arity(ctx.out(), "ping"),
    }
}

pub fn echo(ctx: &mut Ctx, args: &[&[u8]]) {
    ctx.out().bulk(args[1]);
}

pub fn quit(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().ok();
    ctx.client.close_after_reply = true;
}

pub fn reset(ctx: &mut Ctx, _args: &[&[u8]]) {
    let c = &mut *ctx.client;
    c.db = 0;
    c.name = None;
    c.out.proto = Protocol::Resp2;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    if c.monitor {
        c.monitor = false;
        let id = c.id;
        ctx.srv.monitors.retain(|&m| m != id);
    }
    super::transaction::discard_transaction(ctx.srv, ctx.client);
    super::pubsub::unsubscribe_all(ctx.srv, ctx.client);
    ctx.srv.tracking.disable(ctx.client.id);
    ctx.client.authenticated = !ctx.srv.auth_required();
    ctx.client.user = "default".into();
    ctx.out().simple("RESET");
}

/// Checks a username/password pair against the ACL users; a failure is
/// logged in the ACL log (object: the command as typed).
fn check_credentials(ctx: &mut Ctx, command: &[u8], user: &[u8], pass: &[u8]) -> bool {
    if ctx.srv.acl.authenticate(user, pass) {
        return true;
    }
    super::acl::log_auth_failure(ctx.srv, ctx.client, command, user);
    false
}

pub fn auth(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let (user, pass) = if args.len() == 2 {
        (&b"default"[..], args[1])
    } else {
        (args[1], args[2])
    };
    let default_nopass = ctx
        .srv
        .acl
        .user(b"default")
        .is_some_and(|u| crate::acl::user_flags(u).contains(&"nopass"));
    if args.len() == 2 && default_nopass {
        ctx.out().error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    if check_credentials(ctx, args[0], user, pass) {
        ctx.client.authenticated = true;
        ctx.client.user = String::from_utf8_lossy(user).into_owned();
        ctx.out().ok();
    } else {
        ctx.out()
            .error("WRONGPASS invalid username-password pair or user is disabled.");
    }
}

/// Whether a client name is acceptable (no spaces, newlines or control bytes).
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

pub fn hello(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut proto = None;
    let mut i = 1;
    if args.len() >= 2 {
        match super::parse_int(args[1]) {
            Some(v) if v == 2 || v == 3 => proto = Some(v),
            Some(_) => {
                ctx.out().error("NOPROTO unsupported protocol version");
                return;
            }
            None => {
                ctx.out()
                    .error("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        i = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut setname: Option<&[u8]> = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq_ic(args[i], "auth") && more >= 2 {
            auth = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if eq_ic(args[i], "setname") && more >= 1 {
            setname = Some(args[i + 1]);
            i += 2;
        } else {
            ctx.out().error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args[i])
            ));
            return;
        }
    }
    if let Some((user, pass)) = auth {
        if !check_credentials(ctx, args[0], user, pass) {
            ctx.out()
                .error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        ctx.client.authenticated = true;
        ctx.client.user = String::from_utf8_lossy(user).into_owned();
    }
    if !ctx.client.authenticated && ctx.srv.auth_required() {
        ctx.out().error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(name) = setname {
        if !valid_client_name(name) {
            ctx.out()
                .error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        ctx.client.name = if name.is_empty() { None } else { Some(name.to_vec()) };
    }
    if let Some(p) = proto {
        ctx.client.out.proto = if p == 3 { Protocol::Resp3 } else { Protocol::Resp2 };
    }
    let id = ctx.client.id as i64;
    let proto_now = if ctx.client.out.is_resp3() { 3 } else { 2 };
    let out = ctx.out();
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(proto_now);
    out.bulk(b"id");
    out.int(id);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}
