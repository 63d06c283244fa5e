//! A connected client: its socket, query buffer, output and session state.

use mio::net::TcpStream;
use shoal_resp::{QueryBuffer, Reply};
use std::net::SocketAddr;

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the current command's reply.
    Skipping,
}

/// Everything command handlers may see and change about the calling client.
pub struct ClientState {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    /// Output not yet written to the socket. `out.proto` is the negotiated RESP.
    pub out: Reply,
    pub db: usize,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub authenticated: bool,
    pub user: String,
    pub reply_mode: ReplyMode,
    /// Close once the pending output is written (QUIT, protocol errors, KILL self).
    pub close_after_reply: bool,
    /// Close as soon as possible without writing more (CLIENT KILL, buffer limits).
    pub close_asap: bool,
    pub monitor: bool,
    pub no_evict: bool,
    /// Creation time and last command time, Unix ms.
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    /// Full name of the last command, for CLIENT LIST `cmd=`.
    pub last_cmd: &'static str,
    /// When the output buffer first exceeded the soft limit (ms), if it does now.
    pub soft_limit_since: Option<i64>,
    /// Bytes of `out.buf` already sent.
    pub sent: usize,
    /// A command held back by CLIENT PAUSE, to run when the pause ends.
    pub paused_command: Option<Vec<Vec<u8>>>,
    /// Set by a blocking command that found no data: the event loop then parks
    /// the client (see [`crate::blocking`]).
    pub block_request: Option<BlockRequest>,
    /// The command this client is blocked in, if any.
    pub blocked: Option<Blocked>,
    /// Commands queued since MULTI (None = not in a transaction).
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A command failed to queue: EXEC must answer EXECABORT.
    pub multi_error: bool,
    /// Running the commands of an EXEC (blocking commands must not block).
    pub in_exec: bool,
    /// WATCHed keys: (db, key, existed when watched).
    pub watched: Vec<(usize, Vec<u8>, bool)>,
    /// Pub/Sub subscriptions, in subscription order.
    pub channels: Vec<Vec<u8>>,
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: Vec<Vec<u8>>,
    /// The effects the running command declared instead of its own arguments
    /// (Some(empty): it changed nothing). See [`crate::propagate`].
    pub effects: Option<Vec<Vec<Vec<u8>>>>,
    /// Changes the running write command reported for the save-point dirty
    /// counter (see [`crate::commands::Ctx::changed`]); None counts as 1.
    pub changes: Option<u64>,
    /// This connection is a replica of ours (after SYNC/PSYNC).
    pub replica: bool,
    /// The port a replica said it listens on (REPLCONF listening-port).
    pub replica_listening_port: u16,
    /// The replica understands `$EOF:<mark>` payloads (REPLCONF capa eof).
    pub replica_capa_eof: bool,
    /// This connection is our master's stream.
    pub master: bool,
}

/// What a blocking command asks for when it cannot be served now.
#[derive(Clone, Debug)]
pub struct BlockRequest {
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline in Unix ms; None = wait forever.
    pub deadline_ms: Option<i64>,
}

/// A parked client: the command to run again when one of its keys gets data.
#[derive(Clone, Debug)]
pub struct Blocked {
    pub args: Vec<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
    pub db: usize,
    pub deadline_ms: Option<i64>,
}

impl ClientState {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, now_ms: i64) -> Self {
        ClientState {
            id,
            addr,
            laddr,
            out: Reply::default(),
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            authenticated: false,
            user: "default".into(),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            close_asap: false,
            monitor: false,
            no_evict: false,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            soft_limit_since: None,
            sent: 0,
            paused_command: None,
            block_request: None,
            blocked: None,
            multi: None,
            multi_error: false,
            in_exec: false,
            watched: Vec::new(),
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            effects: None,
            changes: None,
            replica: false,
            replica_listening_port: 0,
            replica_capa_eof: false,
            master: false,
        }
    }

    /// Whether the client is in the Pub/Sub context (CLIENT LIST flag `P`).
    pub fn subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    /// Output bytes waiting to be written.
    pub fn pending_output(&self) -> usize {
        self.out.buf.len() - self.sent
    }
}

/// A client connection as the event loop holds it.
pub struct Client {
    pub stream: TcpStream,
    pub query: QueryBuffer,
    pub state: ClientState,
    /// Whether WRITABLE interest is registered with the poller.
    pub write_registered: bool,
    /// The poller reported the peer's end closed (or an error): reads must
    /// go on until they see EOF, since no further edge will announce it.
    pub peer_closed: bool,
}
