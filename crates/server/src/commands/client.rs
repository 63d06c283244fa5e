//! CLIENT subcommands.
//!
//! The calling client is out of `srv.clients` while its command runs, so every
//! listing adds it from `ctx.client`.

use super::connection::valid_client_name;
use super::server::subcommand_syntax_error;
use super::{eq_ic, err, help_reply, parse_int, Ctx};
use crate::client::{Client, ClientState, ReplyMode};
use crate::server::{unix_ms, PauseKind, Server};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

// ---------------------------------------------------------------------------
// CLIENT LIST / INFO

/// What CLIENT LIST shows of one connection beyond its [`ClientState`].
struct Conn<'a> {
    state: &'a ClientState,
    /// Its CLIENT TRACKING mode, when on.
    tracking: Option<&'a crate::tracking::ClientTracking>,
    fd: i32,
    qbuf: usize,
    qbuf_free: usize,
    /// Bytes of the arguments of the command being run (the caller only).
    argv_mem: usize,
    write_pending: bool,
}

impl<'a> Conn<'a> {
    fn other(c: &'a Client, srv: &'a Server) -> Self {
        Conn {
            state: &c.state,
            tracking: srv.tracking.get(c.state.id),
            fd: c.stream.as_raw_fd(),
            qbuf: c.query.pending(),
            qbuf_free: c.query.capacity().saturating_sub(c.query.pending()),
            argv_mem: 0,
            write_pending: c.write_registered,
        }
    }
}

/// The flags letters of CLIENT LIST.
fn flags(st: &ClientState, tracking: Option<&crate::tracking::ClientTracking>) -> String {
    let mut f = String::new();
    if st.replica {
        f.push('S');
    }
    if st.master {
        f.push('M');
    }
    if st.monitor {
        f.push('O');
    }
    if st.subscribed() {
        f.push('P');
    }
    if st.multi.is_some() {
        f.push('x');
    }
    if st.blocked.is_some() {
        f.push('b');
    }
    crate::tracking::list_flags(tracking, &mut f);
    if st.close_after_reply {
        f.push('c');
    }
    if st.close_asap {
        f.push('A');
    }
    if st.no_evict {
        f.push('e');
    }
    if f.is_empty() {
        f.push('N');
    }
    f
}

fn lossy(b: &Option<Vec<u8>>) -> String {
    b.as_deref()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

/// One CLIENT LIST line (with its trailing newline), in Redis 7.0's field
/// order. (Redis 7.2 adds `lib-name`/`lib-ver`; 7.0.15, our reference, does not.)
fn client_line(c: &Conn, now_ms: i64) -> String {
    let st = c.state;
    let out_cap = st.out.buf.capacity();
    let pending = st.pending_output();
    let tot_mem = std::mem::size_of::<Client>() + c.qbuf + c.qbuf_free + out_cap + c.argv_mem;
    let mut s = String::with_capacity(300);
    let _ = writeln!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} \
         events={} cmd={} user={} redir={} resp={}",
        st.id,
        st.addr,
        st.laddr,
        c.fd,
        lossy(&st.name),
        (now_ms - st.created_ms).max(0) / 1000,
        (now_ms - st.last_interaction_ms).max(0) / 1000,
        flags(st, c.tracking),
        st.db,
        st.channels.len(),
        st.patterns.len(),
        st.shard_channels.len(),
        st.multi.as_ref().map_or(-1, |q| q.len() as i64),
        c.qbuf,
        c.qbuf_free,
        c.argv_mem,
        out_cap,
        out_cap,
        pending,
        pending,
        tot_mem,
        if c.write_pending { "rw" } else { "r" },
        st.last_cmd,
        st.user,
        crate::tracking::redirect_of(c.tracking),
        if st.out.is_resp3() { 3 } else { 2 },
    );
    s
}

/// The socket address behind a file descriptor: (local, peer).
fn socket_addrs(fd: i32) -> Option<(SocketAddr, SocketAddr)> {
    fn to_addr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match ss.ss_family as i32 {
            libc::AF_INET => {
                let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
            }
            libc::AF_INET6 => {
                let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                Some(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
            }
            _ => None,
        }
    }
    let mut local: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut peer: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if unsafe { libc::getsockname(fd, &mut local as *mut _ as *mut libc::sockaddr, &mut len) } != 0 {
        return None;
    }
    len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if unsafe { libc::getpeername(fd, &mut peer as *mut _ as *mut libc::sockaddr, &mut len) } != 0 {
        return None;
    }
    Some((to_addr(&local)?, to_addr(&peer)?))
}

thread_local! {
    /// Calling client id -> its socket's descriptor, found once (see [`own_fd`]).
    static OWN_FD: std::cell::RefCell<std::collections::HashMap<u64, i32>> = Default::default();
}

/// The descriptor of the calling client's socket. `ClientState` does not carry
/// it, so it is found once by matching the connection's addresses and cached
/// (checked again on every use, since descriptors are reused).
fn own_fd(srv: &Server, me: &ClientState) -> i32 {
    let matches = |fd: i32| socket_addrs(fd) == Some((me.laddr, me.addr));
    if let Some(fd) = OWN_FD.with(|m| m.borrow().get(&me.id).copied()) {
        if matches(fd) {
            return fd;
        }
    }
    let taken: std::collections::HashSet<i32> = srv.clients.iter().map(|(_, c)| c.stream.as_raw_fd()).collect();
    // Only descriptors that are open and not another client's are candidates.
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .collect()
        })
        .unwrap_or_default();
    let found = open
        .into_iter()
        .find(|fd| !taken.contains(fd) && matches(*fd))
        .unwrap_or(-1);
    OWN_FD.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 4096 {
            m.clear();
        }
        m.insert(me.id, found);
    });
    found
}

fn me_conn<'a>(srv: &'a Server, me: &'a ClientState, args: &[&[u8]]) -> Conn<'a> {
    Conn {
        state: me,
        tracking: srv.tracking.get(me.id),
        fd: own_fd(srv, me),
        qbuf: 0,
        qbuf_free: 0,
        argv_mem: args.iter().map(|a| a.len()).sum(),
        write_pending: false,
    }
}

/// CLIENT LIST / KILL client types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    Master,
    Pubsub,
}

impl ClientType {
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        let n = String::from_utf8_lossy(name).to_ascii_lowercase();
        match n.as_str() {
            "normal" => Some(ClientType::Normal),
            "slave" | "replica" => Some(ClientType::Replica),
            "master" => Some(ClientType::Master),
            "pubsub" => Some(ClientType::Pubsub),
            _ => None,
        }
    }

    /// The type of a client, as Redis decides it (MONITOR clients are normal).
    fn of(st: &ClientState) -> ClientType {
        if st.master {
            ClientType::Master
        } else if st.replica {
            ClientType::Replica
        } else if st.subscribed() {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }
}

fn unknown_type(ctx: &mut Ctx, name: &[u8]) {
    ctx.out()
        .error(&format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name)));
}

pub fn list(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut type_filter = None;
    let mut ids: Option<Vec<i64>> = None;
    if args.len() == 4 && eq_ic(args[2], "type") {
        match ClientType::parse(args[3]) {
            Some(t) => type_filter = Some(t),
            None => return unknown_type(ctx, args[3]),
        }
    } else if args.len() > 3 && eq_ic(args[2], "id") {
        let mut v = Vec::new();
        for a in &args[3..] {
            match parse_int(a) {
                Some(id) => v.push(id),
                None => {
                    ctx.out().error("ERR Invalid client ID");
                    return;
                }
            }
        }
        ids = Some(v);
    } else if args.len() != 2 {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let now = unix_ms();
    let srv = &*ctx.srv;
    let me = me_conn(srv, ctx.client, args);
    let mut conns: Vec<Conn> = srv.clients.iter().map(|(_, c)| Conn::other(c, srv)).collect();
    conns.push(me);
    let mut text = String::new();
    match ids {
        Some(ids) => {
            for id in ids {
                if let Some(c) = conns.iter().find(|c| c.state.id as i64 == id) {
                    text.push_str(&client_line(c, now));
                }
            }
        }
        None => {
            conns.sort_by_key(|c| c.state.id);
            for c in conns
                .iter()
                .filter(|c| type_filter.is_none_or(|t| ClientType::of(c.state) == t))
            {
                text.push_str(&client_line(c, now));
            }
        }
    }
    ctx.out().verbatim("txt", text.as_bytes());
}

/// The calling client's CLIENT INFO line without its newline (ACL LOG's
/// `client-info`).
pub fn info_line(srv: &Server, me: &ClientState) -> String {
    let mut line = client_line(&me_conn(srv, me, &[]), unix_ms());
    line.pop();
    line
}

pub fn info(ctx: &mut Ctx, args: &[&[u8]]) {
    let me = me_conn(ctx.srv, ctx.client, args);
    let line = client_line(&me, unix_ms());
    ctx.out().verbatim("txt", line.as_bytes());
}

// ---------------------------------------------------------------------------
// CLIENT KILL

/// CLIENT KILL filters; every given one must match.
#[derive(Debug, Default, PartialEq)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub ctype: Option<ClientType>,
    pub user: Option<String>,
    pub addr: Option<String>,
    pub laddr: Option<String>,
    pub skipme: bool,
    /// The old form `CLIENT KILL ip:port`: answers +OK or "No such client".
    pub old_form: bool,
}

/// Parses the arguments after `CLIENT KILL` into a filter or a Redis error.
pub fn parse_kill(args: &[&[u8]]) -> Result<KillFilter, String> {
    let text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
    if args.len() == 1 {
        return Ok(KillFilter {
            addr: Some(text(args[0])),
            skipme: false,
            old_form: true,
            ..Default::default()
        });
    }
    if !args.len().is_multiple_of(2) {
        return Err(err::SYNTAX.into());
    }
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    for pair in args.chunks(2) {
        let (opt, val) = (pair[0], pair[1]);
        if eq_ic(opt, "id") {
            match parse_int(val) {
                Some(id) if id > 0 => f.id = Some(id as u64),
                _ => return Err("ERR client-id should be greater than 0".into()),
            }
        } else if eq_ic(opt, "type") {
            match ClientType::parse(val) {
                Some(t) => f.ctype = Some(t),
                None => return Err(format!("ERR Unknown client type '{}'", text(val))),
            }
        } else if eq_ic(opt, "addr") {
            f.addr = Some(text(val));
        } else if eq_ic(opt, "laddr") {
            f.laddr = Some(text(val));
        } else if eq_ic(opt, "user") {
            // Until ACL users exist, `default` is the only user.
            if val != b"default" {
                return Err(format!("ERR No such user '{}'", text(val)));
            }
            f.user = Some(text(val));
        } else if eq_ic(opt, "skipme") {
            if eq_ic(val, "yes") {
                f.skipme = true;
            } else if eq_ic(val, "no") {
                f.skipme = false;
            } else {
                return Err(err::SYNTAX.into());
            }
        } else {
            return Err(err::SYNTAX.into());
        }
    }
    Ok(f)
}

impl KillFilter {
    fn matches(&self, st: &ClientState) -> bool {
        self.id.is_none_or(|id| st.id == id)
            && self.ctype.is_none_or(|t| ClientType::of(st) == t)
            && self.user.as_ref().is_none_or(|u| *u == st.user)
            && self.addr.as_ref().is_none_or(|a| *a == st.addr.to_string())
            && self.laddr.as_ref().is_none_or(|a| *a == st.laddr.to_string())
    }
}

pub fn kill(ctx: &mut Ctx, args: &[&[u8]]) {
    let filter = match parse_kill(&args[2..]) {
        Ok(f) => f,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    let victims: Vec<usize> = ctx
        .srv
        .clients
        .iter()
        .filter(|(_, c)| !c.state.close_asap && filter.matches(&c.state))
        .map(|(i, _)| i)
        .collect();
    let mut killed = 0;
    for idx in victims {
        if let Some(c) = ctx.srv.clients.get_mut(idx) {
            c.state.close_asap = true;
            ctx.srv.pending_writes.push(idx);
            killed += 1;
        }
    }
    if !filter.skipme && filter.matches(ctx.client) {
        // The caller still gets its reply, then the connection closes.
        ctx.client.close_after_reply = true;
        killed += 1;
    }
    if filter.old_form {
        if killed == 0 {
            ctx.out().error("ERR No such client");
        } else {
            ctx.out().ok();
        }
    } else {
        ctx.out().int(killed);
    }
}

// ---------------------------------------------------------------------------
// The rest

pub fn tracking(ctx: &mut Ctx, args: &[&[u8]]) {
    crate::tracking::client_tracking(ctx, args)
}

pub fn caching(ctx: &mut Ctx, args: &[&[u8]]) {
    crate::tracking::client_caching(ctx, args)
}

pub fn getredir(ctx: &mut Ctx, args: &[&[u8]]) {
    crate::tracking::client_getredir(ctx, args)
}

pub fn trackinginfo(ctx: &mut Ctx, args: &[&[u8]]) {
    crate::tracking::client_trackinginfo(ctx, args)
}

pub fn id(ctx: &mut Ctx, _args: &[&[u8]]) {
    let id = ctx.client.id as i64;
    ctx.out().int(id);
}

pub fn getname(ctx: &mut Ctx, _args: &[&[u8]]) {
    match ctx.client.name.clone() {
        Some(n) => ctx.out().bulk(&n),
        None => ctx.out().null(),
    }
}

pub fn setname(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = args[2];
    if !valid_client_name(name) {
        ctx.out()
            .error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    ctx.client.name = if name.is_empty() { None } else { Some(name.to_vec()) };
    ctx.out().ok();
}

pub fn setinfo(ctx: &mut Ctx, args: &[&[u8]]) {
    let (attr, value) = (args[2], args[3]);
    let is_name = eq_ic(attr, "lib-name");
    if !is_name && !eq_ic(attr, "lib-ver") {
        ctx.out()
            .error(&format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(attr)));
        return;
    }
    if !valid_client_name(value) {
        ctx.out().error(&format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        ));
        return;
    }
    let v = if value.is_empty() { None } else { Some(value.to_vec()) };
    if is_name {
        ctx.client.lib_name = v;
    } else {
        ctx.client.lib_ver = v;
    }
    ctx.out().ok();
}

/// Parses CLIENT PAUSE's arguments (after PAUSE): (timeout ms, kind) or a
/// Redis error.
pub fn parse_pause(args: &[&[u8]]) -> Result<(i64, PauseKind), String> {
    let kind = match args.get(1) {
        None => PauseKind::All,
        Some(m) if eq_ic(m, "write") => PauseKind::Write,
        Some(m) if eq_ic(m, "all") => PauseKind::All,
        Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
    };
    match parse_int(args[0]) {
        None => Err("ERR timeout is not an integer or out of range".into()),
        Some(t) if t < 0 => Err("ERR timeout is negative".into()),
        Some(t) => Ok((t, kind)),
    }
}

pub fn pause(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 4 {
        subcommand_syntax_error(ctx, args);
        return;
    }
    let (timeout, kind) = match parse_pause(&args[2..]) {
        Ok(v) => v,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    // As in Redis 7.0 a timeout too big to add to the clock wraps and ends at once.
    let until = unix_ms().wrapping_add(timeout);
    // An active pause is only ever extended and strengthened.
    ctx.srv.pause = Some(match ctx.srv.pause {
        Some((old_kind, old_until)) => {
            let kind = if old_kind == PauseKind::All {
                PauseKind::All
            } else {
                kind
            };
            (kind, old_until.max(until))
        }
        None => (kind, until),
    });
    ctx.out().ok();
}

pub fn unpause(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.srv.pause = None;
    ctx.out().ok();
}

pub fn reply(ctx: &mut Ctx, args: &[&[u8]]) {
    let mode = args[2];
    if eq_ic(mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out().ok();
    } else if eq_ic(mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ic(mode, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.out().error(err::SYNTAX);
    }
}

pub fn no_evict(ctx: &mut Ctx, args: &[&[u8]]) {
    if eq_ic(args[2], "on") {
        ctx.client.no_evict = true;
    } else if eq_ic(args[2], "off") {
        ctx.client.no_evict = false;
    } else {
        ctx.out().error(err::SYNTAX);
        return;
    }
    ctx.out().ok();
}

pub fn help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: answers 1 if the client was blocked; the
/// event loop then replies to it (timeout reply, or the UNBLOCKED error).
pub fn unblock(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 4 {
        ctx.out()
            .error("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.");
        return;
    }
    let with_error = match args.get(3) {
        None => false,
        Some(a) if eq_ic(a, "timeout") => false,
        Some(a) if eq_ic(a, "error") => true,
        Some(_) => {
            ctx.out().error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    };
    let Some(id) = crate::commands::parse_int(args[2]) else {
        ctx.out().error(crate::commands::err::NOT_INT);
        return;
    };
    let srv = &mut *ctx.srv;
    let blocked = u64::try_from(id)
        .ok()
        .and_then(|id| srv.clients.index_of(id).map(|idx| (id, idx)))
        .filter(|&(_, idx)| srv.clients.get_mut(idx).is_some_and(|c| c.state.blocked.is_some()));
    match blocked {
        Some((id, _)) => {
            srv.unblock_requests.push((id, with_error));
            ctx.out().int(1);
        }
        None => ctx.out().int(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_filters() {
        let old = parse_kill(&[b"1.2.3.4:5"]).unwrap();
        assert!(old.old_form && !old.skipme);
        assert_eq!(old.addr.as_deref(), Some("1.2.3.4:5"));

        let f = parse_kill(&[b"ID", b"7", b"type", b"Normal", b"skipme", b"NO"]).unwrap();
        assert_eq!(f.id, Some(7));
        assert_eq!(f.ctype, Some(ClientType::Normal));
        assert!(!f.skipme && !f.old_form);
        assert!(parse_kill(&[b"laddr", b"x", b"addr", b"y"]).unwrap().skipme);

        assert_eq!(parse_kill(&[b"id", b"1", b"type"]).unwrap_err(), "ERR syntax error");
        assert_eq!(
            parse_kill(&[b"id", b"0"]).unwrap_err(),
            "ERR client-id should be greater than 0"
        );
        assert_eq!(
            parse_kill(&[b"id", b"x"]).unwrap_err(),
            "ERR client-id should be greater than 0"
        );
        assert_eq!(
            parse_kill(&[b"type", b"bogus"]).unwrap_err(),
            "ERR Unknown client type 'bogus'"
        );
        assert_eq!(
            parse_kill(&[b"user", b"nobody"]).unwrap_err(),
            "ERR No such user 'nobody'"
        );
        assert_eq!(parse_kill(&[b"skipme", b"maybe"]).unwrap_err(), "ERR syntax error");
        assert_eq!(parse_kill(&[b"maxage", b"10"]).unwrap_err(), "ERR syntax error");
        // Errors are reported in argument order.
        assert_eq!(
            parse_kill(&[b"id", b"x", b"type", b"bogus"]).unwrap_err(),
            "ERR client-id should be greater than 0"
        );
    }

    #[test]
    fn pause_arguments() {
        assert_eq!(parse_pause(&[b"10"]).unwrap(), (10, PauseKind::All));
        assert_eq!(parse_pause(&[b"10", b"WRITE"]).unwrap(), (10, PauseKind::Write));
        assert_eq!(
            parse_pause(&[b"x", b"bogus"]).unwrap_err(),
            "ERR CLIENT PAUSE mode must be WRITE or ALL"
        );
        assert_eq!(
            parse_pause(&[b"x"]).unwrap_err(),
            "ERR timeout is not an integer or out of range"
        );
        assert_eq!(parse_pause(&[b"-1"]).unwrap_err(), "ERR timeout is negative");
    }
}
