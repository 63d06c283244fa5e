//! The event loop: one thread accepts connections, reads queries, runs commands and
//! writes replies (like Redis), plus the periodic `serverCron` work driven by `hz`.

use crate::client::{Client, ClientState};
use crate::dispatch::{blocked_by_pause, execute};
use crate::server::{unix_ms, Server};
use crate::{notice, verbose, warning};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use shoal_resp::{Limits, QueryBuffer};
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Listener tokens live above every client token.
const LISTENER_BASE: usize = 1 << 40;
/// Reads per readable event before yielding to other clients.
const READS_PER_EVENT: usize = 4;

/// What a non-loopback client gets in protected mode (no password set), as Redis.
const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Set by the signal handler: the signal number that asked for shutdown.
pub static SHUTDOWN_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SHUTDOWN_SIGNAL.store(sig, Ordering::SeqCst);
}

pub fn install_signal_handlers() {
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

pub struct EventLoop {
    poll: Poll,
    listeners: Vec<TcpListener>,
    /// Clients that may have more data buffered in the kernel.
    pending_reads: Vec<usize>,
    /// Clients holding a command back because of CLIENT PAUSE.
    paused: Vec<usize>,
    last_cron: Instant,
    last_sample_ms: i64,
    last_repl_cron_ms: i64,
}

fn set_keepalive(stream: &TcpStream, seconds: i64) {
    if seconds <= 0 {
        return;
    }
    let fd = stream.as_raw_fd();
    let on: libc::c_int = 1;
    let secs = seconds as libc::c_int;
    let interval = (seconds / 3).max(1) as libc::c_int;
    let probes: libc::c_int = 3;
    unsafe {
        let sz = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            &on as *const _ as *const _,
            sz,
        );
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPIDLE,
            &secs as *const _ as *const _,
            sz,
        );
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPINTVL,
            &interval as *const _ as *const _,
            sz,
        );
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPCNT,
            &probes as *const _ as *const _,
            sz,
        );
    }
}

/// Binds one listening address with the configured backlog.
fn listen(addr: &str, port: u16, backlog: i32) -> io::Result<TcpListener> {
    let host = addr.trim_start_matches('-');
    let host = if host == "*" { "0.0.0.0" } else { host };
    let sa: SocketAddr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
    .parse()
    .map_err(|_| io::Error::new(ErrorKind::InvalidInput, format!("Invalid bind address '{addr}'")))?;
    let domain = if sa.is_ipv6() { libc::AF_INET6 } else { libc::AF_INET };
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        let sz = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &one as *const _ as *const _,
            sz,
        );
        if sa.is_ipv6() {
            libc::setsockopt(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &one as *const _ as *const _,
                sz,
            );
        }
        let sock2: socket_addr::Raw = socket_addr::Raw::from(sa);
        if libc::bind(fd, sock2.as_ptr(), sock2.len()) != 0 || libc::listen(fd, backlog) != 0 {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        use std::os::fd::FromRawFd;
        Ok(TcpListener::from_std(std::net::TcpListener::from_raw_fd(fd)))
    }
}

mod socket_addr {
    use std::net::SocketAddr;

    /// A sockaddr for bind(2).
    pub enum Raw {
        V4(libc::sockaddr_in),
        V6(libc::sockaddr_in6),
    }

    impl From<SocketAddr> for Raw {
        fn from(sa: SocketAddr) -> Self {
            match sa {
                SocketAddr::V4(a) => {
                    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                    s.sin_family = libc::AF_INET as libc::sa_family_t;
                    s.sin_port = a.port().to_be();
                    s.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                    Raw::V4(s)
                }
                SocketAddr::V6(a) => {
                    let mut s: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                    s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    s.sin6_port = a.port().to_be();
                    s.sin6_addr.s6_addr = a.ip().octets();
                    Raw::V6(s)
                }
            }
        }
    }

    impl Raw {
        pub fn as_ptr(&self) -> *const libc::sockaddr {
            match self {
                Raw::V4(s) => s as *const _ as *const libc::sockaddr,
                Raw::V6(s) => s as *const _ as *const libc::sockaddr,
            }
        }
        pub fn len(&self) -> libc::socklen_t {
            (match self {
                Raw::V4(_) => std::mem::size_of::<libc::sockaddr_in>(),
                Raw::V6(_) => std::mem::size_of::<libc::sockaddr_in6>(),
            }) as libc::socklen_t
        }
    }
}

impl EventLoop {
    /// Binds every configured address. Like Redis, an address prefixed with `-` is
    /// optional: failing to bind it is not fatal.
    pub fn new(srv: &mut Server) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        let port = srv.config.port;
        if port != 0 {
            for addr in srv.config.bind.clone() {
                match listen(&addr, port, srv.config.tcp_backlog as i32) {
                    Ok(mut l) => {
                        let token = Token(LISTENER_BASE + listeners.len());
                        poll.registry().register(&mut l, token, Interest::READABLE)?;
                        listeners.push(l);
                    }
                    Err(e) if addr.starts_with('-') || (addr == "::*" || addr == "::1") => {
                        verbose!("Skipping optional bind address {addr}: {e}");
                    }
                    Err(e) => {
                        warning!(
                            "Warning: Could not create server TCP listening socket {}:{}: {}",
                            addr,
                            port,
                            e
                        );
                        return Err(e);
                    }
                }
            }
            if listeners.is_empty() {
                warning!("Failed listening on port {port} (tcp), aborting.");
                return Err(io::Error::new(ErrorKind::AddrNotAvailable, "no listening socket"));
            }
        }
        srv.tcp_port = port;
        srv.scripts.busy_net = BusyNet::new(&poll, &listeners);
        Ok(EventLoop {
            poll,
            listeners,
            pending_reads: Vec::new(),
            paused: Vec::new(),
            last_cron: Instant::now(),
            last_sample_ms: 0,
            last_repl_cron_ms: 0,
        })
    }

    pub fn run(&mut self, srv: &mut Server) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut spin_until: Option<Instant> = None;
        loop {
            let period = Duration::from_millis(1000 / srv.config.hz.clamp(1, 500) as u64);
            let mut timeout = if !self.pending_reads.is_empty() || crate::snapshot::wants_cpu(srv) {
                Duration::ZERO
            } else {
                period.saturating_sub(self.last_cron.elapsed())
            };
            if let Some(deadline) = srv.blocking.next_deadline() {
                let wait = Duration::from_millis((deadline - unix_ms()).max(0) as u64);
                timeout = timeout.min(wait);
            }
            // Right after activity, poll without sleeping for a few µs
            // (`event-loop-spin-us`): a request arriving then finds the
            // engine awake, which saves the sender a cross-CPU wake-up.
            if let Some(until) = spin_until {
                if Instant::now() < until {
                    timeout = Duration::ZERO;
                } else {
                    spin_until = None;
                }
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            if !events.is_empty() && srv.config.event_loop_spin_us > 0 {
                spin_until = Some(Instant::now() + Duration::from_micros(srv.config.event_loop_spin_us));
            }
            for ev in events.iter() {
                let t = ev.token().0;
                if t >= LISTENER_BASE {
                    self.accept(srv, t - LISTENER_BASE);
                } else {
                    if ev.is_read_closed() || ev.is_error() {
                        if let Some(c) = srv.clients.get_mut(t) {
                            c.peer_closed = true;
                        }
                    }
                    self.client_event(srv, t, ev.is_readable() || ev.is_read_closed(), ev.is_writable());
                }
            }
            for idx in std::mem::take(&mut self.pending_reads) {
                self.client_event(srv, idx, true, false);
            }
            if self.last_cron.elapsed() >= period {
                self.last_cron = Instant::now();
                self.cron(srv);
            }
            self.resume_paused(srv);
            self.serve_blocked(srv);
            if srv.snapshot.is_some() {
                crate::snapshot::tick(srv);
            }
            if srv.loading.is_some() {
                crate::loading::step(srv);
            }
            crate::tracking::before_sleep(srv);
            crate::propagate::flush(srv);
            crate::replication::before_sleep(srv);
            if let Some(link) = crate::replication::poll_sync(srv) {
                self.adopt_master(srv, link);
            }
            crate::aof::before_sleep(srv);
            self.flush_pending_writes(srv);
            if srv.shutdown_requested {
                return Ok(());
            }
        }
    }

    fn accept(&mut self, srv: &mut Server, listener: usize) {
        accept_on(self.poll.registry(), &self.listeners[listener], srv);
    }

    fn client_event(&mut self, srv: &mut Server, idx: usize, readable: bool, writable: bool) {
        let Some(mut c) = srv.clients.take(idx) else {
            return;
        };
        if writable {
            write_out(srv, &mut c);
        }
        if readable && !c.state.close_asap && !c.state.close_after_reply {
            self.read_and_process(srv, idx, &mut c);
        }
        self.finish(srv, idx, c);
    }

    fn read_and_process(&mut self, srv: &mut Server, idx: usize, c: &mut Client) {
        for i in 0..READS_PER_EVENT {
            match c.query.read_from(&mut c.stream) {
                Ok(0) => {
                    c.state.close_asap = true;
                    return;
                }
                Ok(n) => {
                    srv.stats.net_input_bytes += n as u64;
                    let limit = srv.config.client_query_buffer_limit;
                    if limit > 0 && c.query.pending() as u64 > limit {
                        warning!(
                            "Closing client that reached max query buffer length: id={} addr={}",
                            c.state.id,
                            c.state.addr
                        );
                        srv.stats.client_qbuf_limit_disconnections += 1;
                        c.state.close_asap = true;
                        return;
                    }
                    let drained = c.query.last_read_was_short() && !c.peer_closed;
                    process_commands(srv, c, idx, &mut self.paused);
                    if c.state.close_asap || c.state.close_after_reply || c.state.paused_command.is_some() {
                        return;
                    }
                    if drained {
                        // The socket had nothing more; new data or the peer's
                        // FIN raises a new (edge-triggered) event, so skip the
                        // read that would only say WouldBlock. A FIN that came
                        // before this event raises nothing new: `peer_closed`.
                        return;
                    }
                    if i + 1 == READS_PER_EVENT {
                        // More may be waiting: come back after serving others.
                        self.pending_reads.push(idx);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    c.state.close_asap = true;
                    return;
                }
            }
        }
    }

    /// Writes what can be written and decides whether the client lives on.
    fn finish(&mut self, srv: &mut Server, idx: usize, mut c: Box<Client>) {
        if !c.state.close_asap && c.state.pending_output() > 0 && crate::aof::holds_replies(srv) {
            // Replies wait until the AOF holds what they acknowledge
            // (written, and fsynced with `appendfsync always`): before_sleep.
            srv.pending_writes.push(idx);
            srv.clients.put_back(idx, c);
            return;
        }
        if !c.state.close_asap && c.state.pending_output() > 0 {
            write_out(srv, &mut c);
            check_output_limits(srv, &mut c);
        }
        let done_writing = c.state.pending_output() == 0;
        if c.state.close_asap || (c.state.close_after_reply && done_writing) {
            self.close(srv, idx, c);
            return;
        }
        let want_write = !done_writing;
        if want_write != c.write_registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let _ = self.poll.registry().reregister(&mut c.stream, Token(idx), interest);
            c.write_registered = want_write;
        }
        srv.clients.put_back(idx, c);
    }

    fn close(&mut self, srv: &mut Server, idx: usize, mut c: Box<Client>) {
        let _ = self.poll.registry().deregister(&mut c.stream);
        if c.state.master {
            crate::replication::master_link_lost(srv, c.state.id, c.state.db);
        }
        if c.state.replica {
            crate::replication::forget_replica(srv, c.state.id);
        }
        srv.repl.waits.remove(&c.state.id);
        if c.state.monitor {
            srv.monitors.retain(|&m| m != c.state.id);
        }
        unpark(srv, &mut c.state);
        crate::commands::transaction::unwatch_all(srv, &mut c.state);
        crate::commands::pubsub::unsubscribe_all(srv, &mut c.state);
        srv.tracking.disable(c.state.id);
        srv.clients.release_taken(idx, c.state.id);
        verbose!("Client closed connection id={} addr={}", c.state.id, c.state.addr);
    }

    /// Writes output produced for clients outside their own commands (MONITOR,
    /// CLIENT KILL marks), and closes clients marked for closing.
    fn flush_pending_writes(&mut self, srv: &mut Server) {
        if srv.pending_writes.is_empty() {
            return;
        }
        let mut list = std::mem::take(&mut srv.pending_writes);
        list.sort_unstable();
        list.dedup();
        for idx in list {
            if let Some(c) = srv.clients.take(idx) {
                self.finish(srv, idx, c);
            }
        }
    }

    fn resume_paused(&mut self, srv: &mut Server) {
        if self.paused.is_empty() {
            return;
        }
        if let Some((_, until)) = srv.pause {
            if unix_ms() < until {
                return;
            }
            srv.pause = None;
        }
        for idx in std::mem::take(&mut self.paused) {
            let Some(mut c) = srv.clients.take(idx) else {
                continue;
            };
            if let Some(cmd) = c.state.paused_command.take() {
                let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
                srv.now_ms = unix_ms();
                execute(srv, &mut c.state, &args);
                process_commands(srv, &mut c, idx, &mut self.paused);
            }
            self.finish(srv, idx, c);
            // Data that arrived during the pause may still sit in the socket.
            self.pending_reads.push(idx);
        }
    }

    /// Runs parked commands whose keys got data, first blocked first served, and
    /// answers parked clients whose timeout passed.
    fn serve_blocked(&mut self, srv: &mut Server) {
        if srv.blocking.is_empty() && srv.unblock_requests.is_empty() {
            return;
        }
        while let Some((db, key)) = srv.blocking.next_ready() {
            for id in srv.blocking.waiters(db, &key) {
                let Some(idx) = srv.clients.index_of(id) else {
                    continue;
                };
                let Some(mut c) = srv.clients.take(idx) else {
                    continue;
                };
                let blocked = c.state.blocked.clone().expect("waiting clients are parked");
                // Like Redis, a key only serves the commands waiting for its type:
                // a string written to a key a BLPOP waits on leaves it waiting.
                let holds = srv.keyspace.dbs[db].peek(&key, unix_ms()).map(|e| e.value.type_name());
                if holds != Some(waited_type(&blocked.args[0])) {
                    srv.clients.put_back(idx, c);
                    continue;
                }
                let args: Vec<&[u8]> = blocked.args.iter().map(|a| a.as_slice()).collect();
                srv.now_ms = unix_ms();
                execute(srv, &mut c.state, &args);
                let still_empty = c.state.block_request.take().is_some();
                if !still_empty {
                    unpark(srv, &mut c.state);
                    // Commands pipelined behind the blocking one run now.
                    process_commands(srv, &mut c, idx, &mut self.paused);
                }
                self.finish(srv, idx, c);
                if still_empty {
                    break;
                }
            }
        }
        let now = unix_ms();
        let timed_out = srv.blocking.take_expired(now).into_iter().map(|id| (id, false));
        let unblocked: Vec<(u64, bool)> = timed_out.chain(std::mem::take(&mut srv.unblock_requests)).collect();
        for (id, with_error) in unblocked {
            let Some(idx) = srv.clients.index_of(id) else {
                continue;
            };
            let Some(mut c) = srv.clients.take(idx) else {
                continue;
            };
            if c.state.blocked.is_none() {
                srv.clients.put_back(idx, c);
                continue;
            }
            let was_wait = c
                .state
                .blocked
                .as_ref()
                .is_some_and(|b| b.args[0].eq_ignore_ascii_case(b"wait"));
            unpark(srv, &mut c.state);
            if with_error {
                srv.repl.waits.remove(&c.state.id);
                c.state.out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
            } else if was_wait {
                crate::commands::replication::wait_released(srv, &mut c.state);
            } else {
                c.state.out.null_array();
            }
            process_commands(srv, &mut c, idx, &mut self.paused);
            self.finish(srv, idx, c);
        }
    }

    /// Periodic work, `hz` times per second.
    fn cron(&mut self, srv: &mut Server) {
        let now = unix_ms();
        srv.now_ms = now;
        srv.lru_clock = (now / 1000) as u32;
        let stamp = crate::evict::initial_stamp(srv);
        for db in srv.keyspace.dbs.iter_mut() {
            db.lru_clock = stamp;
        }
        srv.memory.refresh();
        let sig = SHUTDOWN_SIGNAL.swap(0, Ordering::SeqCst);
        if sig != 0 {
            let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
            warning!("Received {name} scheduling shutdown...");
            if !srv.config.save.is_empty() {
                // Like Redis: with save points configured, a signal saves first.
                notice!("Saving the final RDB snapshot before exiting.");
                let path = srv.config.dbfilename.clone();
                match crate::commands::persistence::save_to(srv, &path) {
                    Ok(_) => notice!("DB saved on disk"),
                    Err(e) => warning!("Error trying to save the DB: {e}"),
                }
            }
            srv.shutdown_requested = true;
            return;
        }
        if now - self.last_sample_ms >= 100 {
            self.last_sample_ms = now;
            srv.stats.ops.sample(now, srv.stats.commands_processed);
            srv.stats.input.sample(now, srv.stats.net_input_bytes);
            srv.stats.output.sample(now, srv.stats.net_output_bytes);
        }
        // A replica waits for its master's DELs instead of expiring keys.
        if srv.active_expire_enabled && srv.repl.master.is_none() {
            active_expire_cycle(srv);
        }
        if now - self.last_repl_cron_ms >= 1000 {
            self.last_repl_cron_ms = now;
            crate::replication::cron(srv);
        }
        crate::snapshot::check_save_points(srv);
        crate::aof::cron(srv);
        if let Some((_, until)) = srv.pause {
            if now >= until {
                srv.pause = None;
            }
        }
        self.close_idle_clients(srv, now);
    }

    /// Turns the connection the replication sync thread set up into the
    /// master client, whose commands are our master's stream.
    fn adopt_master(&mut self, srv: &mut Server, link: crate::replication::Adopt) {
        let _ = link.stream.set_read_timeout(None);
        if link.stream.set_nonblocking(true).is_err() {
            return;
        }
        let addr = link
            .stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let laddr = link.stream.local_addr().unwrap_or(addr);
        let stream = TcpStream::from_std(link.stream);
        let id = srv.next_client_id;
        srv.next_client_id += 1;
        let mut state = ClientState::new(id, addr, laddr, unix_ms());
        state.authenticated = true;
        state.master = true;
        let mut query = QueryBuffer::new();
        query.extend(&link.leftover);
        let client = Box::new(Client {
            stream,
            query,
            state,
            write_registered: false,
            peer_closed: false,
        });
        let idx = srv.clients.insert(client);
        let c = srv.clients.get_mut(idx).expect("just inserted");
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut c.stream, Token(idx), Interest::READABLE)
        {
            warning!("Registering the master link: {e}");
            srv.clients.remove(idx);
            return;
        }
        let db = crate::replication::master_connected(srv, id);
        if let Some(c) = srv.clients.get_mut(idx) {
            c.state.db = db;
        }
        // Stream bytes that arrived with the end of the snapshot.
        self.pending_reads.push(idx);
        if let Some(mut c) = srv.clients.take(idx) {
            process_commands(srv, &mut c, idx, &mut self.paused);
            self.finish(srv, idx, c);
        }
    }

    fn close_idle_clients(&mut self, srv: &mut Server, now: i64) {
        let timeout_ms = srv.config.timeout as i64 * 1000;
        if timeout_ms <= 0 {
            return;
        }
        let idle: Vec<usize> = srv
            .clients
            .iter()
            .filter(|(_, c)| {
                !c.state.monitor
                    && !c.state.replica
                    && !c.state.master
                    && now - c.state.last_interaction_ms > timeout_ms
            })
            .map(|(i, _)| i)
            .collect();
        for idx in idle {
            if let Some(c) = srv.clients.take(idx) {
                verbose!("Closing idle client");
                self.close(srv, idx, c);
            }
        }
    }
}

/// Parses and runs every complete command in the client's query buffer.
/// Accepts every pending connection on `listener` and registers the clients.
fn accept_on(registry: &mio::Registry, listener: &TcpListener, srv: &mut Server) {
    loop {
        let (stream, addr) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                warning!("Accepting client connection: {e}");
                return;
            }
        };
        srv.stats.connections_received += 1;
        let mut stream = stream;
        if srv.clients.len() >= srv.config.maxclients as usize {
            srv.stats.rejected_connections += 1;
            let _ = stream.write(b"-ERR max number of clients reached\r\n");
            continue;
        }
        if srv.config.protected_mode && !srv.auth_required() && !addr.ip().is_loopback() {
            let _ = stream.write(PROTECTED_MODE_ERROR.as_bytes());
            continue;
        }
        let _ = stream.set_nodelay(true);
        set_keepalive(&stream, srv.config.tcp_keepalive as i64);
        let laddr = stream.local_addr().unwrap_or(addr);
        let id = srv.next_client_id;
        srv.next_client_id += 1;
        let mut state = ClientState::new(id, addr, laddr, unix_ms());
        state.authenticated = !srv.auth_required();
        let client = Box::new(Client {
            stream,
            query: QueryBuffer::new(),
            state,
            write_registered: false,
            peer_closed: false,
        });
        let idx = srv.clients.insert(client);
        let c = srv.clients.get_mut(idx).expect("just inserted");
        if let Err(e) = registry.register(&mut c.stream, Token(idx), Interest::READABLE) {
            warning!("Registering client: {e}");
            srv.clients.remove(idx);
            continue;
        }
        verbose!("Accepted {addr}");
    }
}

/// What the Lua hook needs to serve clients while a script runs past
/// busy-reply-threshold: the poller's registry and duplicates of the
/// listening sockets (the event loop itself is up the stack, borrowed).
pub struct BusyNet {
    registry: mio::Registry,
    listeners: Vec<TcpListener>,
}

impl BusyNet {
    fn new(poll: &Poll, listeners: &[TcpListener]) -> Option<BusyNet> {
        use std::os::fd::FromRawFd;
        let registry = poll.registry().try_clone().ok()?;
        let mut dups = Vec::new();
        for l in listeners {
            // SAFETY: dup() of a valid listening socket; the new descriptor is
            // owned by the TcpListener built from it.
            let fd = unsafe { libc::dup(l.as_raw_fd()) };
            if fd < 0 {
                return None;
            }
            let std_l = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            dups.push(TcpListener::from_std(std_l));
        }
        Some(BusyNet {
            registry,
            listeners: dups,
        })
    }
}

/// Called from the Lua hook while a script is past busy-reply-threshold (the
/// running client is out of the client table): accepts connections, reads
/// what clients sent and answers it. Commands flagged `allow_busy` run
/// (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, AUTH...), everything else
/// gets -BUSY. Replies are written at once when possible; the rest, and
/// closing, is left to the event loop (`pending_writes`).
pub fn serve_while_busy(srv: &mut Server) {
    let Some(net) = srv.scripts.busy_net.take() else {
        return;
    };
    for l in &net.listeners {
        accept_on(&net.registry, l, srv);
    }
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut idxs: Vec<usize> = Vec::new();
    for (idx, c) in srv.clients.iter() {
        let st = &c.state;
        if st.master || st.replica || st.blocked.is_some() || st.paused_command.is_some() || st.close_asap {
            continue;
        }
        fds.push(libc::pollfd {
            fd: c.stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        idxs.push(idx);
    }
    // SAFETY: `fds` is a valid array of pollfd of the given length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    if n > 0 {
        for (pfd, idx) in fds.iter().zip(idxs) {
            if pfd.revents == 0 {
                continue;
            }
            let Some(mut c) = srv.clients.take(idx) else {
                continue;
            };
            match c.query.read_from(&mut c.stream) {
                Ok(0) => c.state.close_asap = true,
                Ok(n) => {
                    srv.stats.net_input_bytes += n as u64;
                    busy_commands(srv, &mut c);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => c.state.close_asap = true,
            }
            if !c.state.close_asap && c.state.pending_output() > 0 {
                write_out(srv, &mut c);
            }
            if c.state.close_asap || c.state.close_after_reply || c.state.pending_output() > 0 {
                srv.pending_writes.push(idx);
            }
            srv.clients.put_back(idx, c);
        }
    }
    srv.scripts.busy_net = Some(net);
}

/// The commands a client sent while a script is busy.
fn busy_commands(srv: &mut Server, c: &mut Client) {
    srv.now_ms = unix_ms();
    loop {
        if c.state.close_after_reply || c.state.close_asap {
            break;
        }
        let limits = Limits {
            max_bulk_len: srv.config.proto_max_bulk_len,
            unauthenticated: !c.state.authenticated && srv.auth_required(),
        };
        match c.query.parse_next(&limits) {
            Ok(true) => {
                let args = c.query.args();
                let allowed = match srv.commands.get(args[0]) {
                    None => true,
                    Some(spec) => {
                        let spec = match args.get(1) {
                            Some(sub) if !spec.subcommands.is_empty() => {
                                crate::commands::find_subcommand(spec, sub).unwrap_or(spec)
                            }
                            _ => spec,
                        };
                        let nosave = args.iter().skip(1).any(|a| a.eq_ignore_ascii_case(b"nosave"));
                        spec.has(crate::commands::flag::ALLOW_BUSY) && (spec.name != "shutdown" || nosave)
                    }
                };
                if allowed {
                    execute(srv, &mut c.state, &args);
                } else if let Some(e) = srv.scripts.busy_error() {
                    c.state.out.error(e);
                    for code in c.state.out.take_errors() {
                        srv.stats.total_error_replies += 1;
                        *srv.stats.errors.entry(code).or_insert(0) += 1;
                    }
                }
            }
            Ok(false) => break,
            Err(e) => {
                c.state.out.error(&e.reply_text());
                c.state.close_after_reply = true;
                break;
            }
        }
    }
    c.query.compact();
}

pub fn process_commands(srv: &mut Server, c: &mut Client, idx: usize, paused: &mut Vec<usize>) {
    // One clock read per batch: commands of one pipeline share their time.
    srv.now_ms = unix_ms();
    loop {
        // Recomputed per command: an AUTH earlier in the same pipeline lifts the
        // unauthenticated limits for what follows it.
        let limits = Limits {
            max_bulk_len: srv.config.proto_max_bulk_len,
            unauthenticated: !c.state.authenticated && srv.auth_required(),
        };
        if c.state.close_after_reply
            || c.state.close_asap
            || c.state.paused_command.is_some()
            || c.state.blocked.is_some()
        {
            break;
        }
        let before = c.query.pending();
        let parsed = c.query.parse_next(&limits);
        if c.state.master {
            let consumed = (before - c.query.pending()) as i64;
            match parsed {
                Ok(true) => {
                    let args = c.query.args();
                    crate::replication::apply_master_command(srv, &mut c.state, &args, consumed);
                    continue;
                }
                Ok(false) => {
                    srv.repl.master_repl_offset += consumed;
                    break;
                }
                Err(e) => {
                    warning!("Protocol error from master: {}", e.0);
                    c.state.close_asap = true;
                    break;
                }
            }
        }
        match parsed {
            Ok(true) => {
                let args = c.query.args();
                if srv.pause.is_some() && blocked_by_pause(srv, &args) {
                    c.state.paused_command = Some(args.iter().map(|a| a.to_vec()).collect());
                    paused.push(idx);
                    break;
                }
                execute(srv, &mut c.state, &args);
                if let Some(req) = c.state.block_request.take() {
                    let owned = args.iter().map(|a| a.to_vec()).collect();
                    park(srv, &mut c.state, owned, req);
                }
            }
            Ok(false) => break,
            Err(e) => {
                verbose!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.0,
                    c.state.id,
                    c.state.addr
                );
                c.state.out.error(&e.reply_text());
                c.state.close_after_reply = true;
                break;
            }
        }
    }
    c.query.compact();
}

/// The type of key a blocking command waits for.
fn waited_type(command: &[u8]) -> &'static str {
    let name = command.to_ascii_lowercase();
    match name.as_slice() {
        b"bzpopmin" | b"bzpopmax" | b"bzmpop" => "zset",
        b"xread" | b"xreadgroup" => "stream",
        _ => "list",
    }
}

/// Parks a client whose blocking command found no data.
fn park(srv: &mut Server, st: &mut ClientState, args: Vec<Vec<u8>>, req: crate::client::BlockRequest) {
    srv.blocking.add(st.id, st.db, &req.keys, req.deadline_ms);
    st.blocked = Some(crate::client::Blocked {
        args,
        keys: req.keys,
        db: st.db,
        deadline_ms: req.deadline_ms,
    });
}

/// Forgets a parked client's registrations.
fn unpark(srv: &mut Server, st: &mut ClientState) {
    if let Some(b) = st.blocked.take() {
        srv.blocking.remove(st.id, b.db, &b.keys, b.deadline_ms);
    }
}

/// Writes pending output until the socket would block.
fn write_out(srv: &mut Server, c: &mut Client) {
    let st = &mut c.state;
    while st.sent < st.out.buf.len() {
        match c.stream.write(&st.out.buf[st.sent..]) {
            Ok(0) => {
                st.close_asap = true;
                return;
            }
            Ok(n) => {
                st.sent += n;
                srv.stats.net_output_bytes += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => {
                st.close_asap = true;
                return;
            }
        }
    }
    if st.sent == st.out.buf.len() {
        st.out.buf.clear();
        st.sent = 0;
        st.soft_limit_since = None;
        if st.out.buf.capacity() > 1 << 20 {
            st.out.buf = Vec::with_capacity(16 * 1024);
        }
    } else if st.sent > 1 << 20 && st.sent * 2 > st.out.buf.len() {
        // Drop what was sent so a slow reader's buffer does not only grow.
        st.out.buf.drain(..st.sent);
        st.sent = 0;
    }
}

/// client-output-buffer-limit: a client over the hard limit, or over the soft limit
/// for longer than its seconds, is closed.
fn check_output_limits(srv: &mut Server, c: &mut Client) {
    let pending = c.state.pending_output() as u64;
    // MONITOR clients count as `normal`, as in Redis; subscribers as `pubsub`.
    // The master link is never limited (Redis exempts it too).
    if c.state.master {
        return;
    }
    let class = if c.state.replica {
        shoal_config::ClientClass::Replica
    } else if c.state.subscribed() {
        shoal_config::ClientClass::Pubsub
    } else {
        shoal_config::ClientClass::Normal
    };
    let limit = srv.config.client_output_buffer_limit[class as usize];
    let now = unix_ms();
    let over_hard = limit.hard > 0 && pending > limit.hard;
    let over_soft = limit.soft > 0 && pending > limit.soft;
    let soft_expired = if over_soft {
        let since = *c.state.soft_limit_since.get_or_insert(now);
        now - since > limit.soft_seconds as i64 * 1000
    } else {
        c.state.soft_limit_since = None;
        false
    };
    if over_hard || soft_expired {
        warning!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            c.state.id,
            c.state.addr
        );
        srv.stats.client_outbuf_limit_disconnections += 1;
        c.state.close_asap = true;
    }
}

/// Removes expired keys in bounded steps: at most 25% of a cron period, and only
/// while the keys visited keep turning out expired (more than 10%).
fn active_expire_cycle(srv: &mut Server) {
    let started = Instant::now();
    let budget = Duration::from_micros(250_000 / srv.config.hz.clamp(1, 500) as u64);
    let now = unix_ms();
    let mut removed = Vec::new();
    for db_index in 0..srv.keyspace.dbs.len() {
        let db = &mut srv.keyspace.dbs[db_index];
        while db.volatile_len() > 0 && started.elapsed() < budget {
            let (expired, visited) = db.active_expire_step(now, 64, &mut removed);
            srv.stats.expired_keys += expired as u64;
            if visited == 0 || expired * 10 <= visited {
                break;
            }
        }
        let lazy = srv.config.lazyfree_lazy_expire;
        for e in removed.drain(..) {
            crate::propagate::propagate_deletion(srv, db_index, e.key(), lazy);
            crate::notify::notify(srv, None, crate::notify::class::EXPIRED, "expired", db_index, e.key());
            if e.value.is_big() {
                srv.lazyfree.free(e);
            }
        }
    }
    crate::commands::hash_ttl::active_expire_fields(srv, now, started + budget);
    let ms = started.elapsed().as_millis() as u64;
    srv.stats.expire_cycle_cpu_ms += ms;
    srv.latency
        .record("expire-cycle", ms, srv.config.latency_monitor_threshold);
}

pub fn log_ready() {
    notice!("Ready to accept connections tcp");
}
