//! Replication state shared by both roles: the replication ID and offset, the
//! backlog, and the stream of effects sent to replicas (master side).
//!
//! The stream is the propagated effects ([`crate::propagate`]) in RESP. Every
//! byte appended to it advances `master_repl_offset` and goes into the
//! circular backlog, from which a replica that reconnects continues (PSYNC)
//! instead of loading a full snapshot again. New bytes are handed to the
//! replica connections when the event loop flushes output.

use crate::propagate::encode_for_stream;

/// A circular buffer of the most recent stream bytes.
pub struct Backlog {
    buf: Vec<u8>,
    /// Where the next byte goes.
    idx: usize,
    /// Bytes held (≤ buf.len()).
    pub histlen: usize,
}

impl Backlog {
    pub fn new(size: usize) -> Self {
        Backlog {
            buf: vec![0; size.max(16 * 1024)],
            idx: 0,
            histlen: 0,
        }
    }

    pub fn size(&self) -> usize {
        self.buf.len()
    }

    pub fn append(&mut self, mut data: &[u8]) {
        let size = self.buf.len();
        if data.len() > size {
            data = &data[data.len() - size..];
        }
        let first = (size - self.idx).min(data.len());
        self.buf[self.idx..self.idx + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        self.buf[..rest].copy_from_slice(&data[first..]);
        self.idx = (self.idx + data.len()) % size;
        self.histlen = (self.histlen + data.len()).min(size);
    }

    /// The last `n` bytes (n ≤ histlen).
    pub fn tail(&self, n: usize) -> Vec<u8> {
        let size = self.buf.len();
        let start = (self.idx + size - n) % size;
        let mut out = Vec::with_capacity(n);
        if start + n <= size {
            out.extend_from_slice(&self.buf[start..start + n]);
        } else {
            out.extend_from_slice(&self.buf[start..]);
            out.extend_from_slice(&self.buf[..n - (size - start)]);
        }
        out
    }

    /// Changes the capacity, keeping the most recent bytes that fit.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(16 * 1024);
        if size == self.buf.len() {
            return;
        }
        let keep = self.histlen.min(size);
        let recent = self.tail(keep);
        self.buf = vec![0; size];
        self.idx = 0;
        self.histlen = 0;
        self.append(&recent);
    }
}

/// Replication identity and the outgoing stream.
pub struct Replication {
    pub replid: String,
    /// The ID of the master this node replicated from before a promotion.
    pub replid2: String,
    /// Up to which offset `replid2` is valid (-1: none).
    pub second_replid_offset: i64,
    /// Stream bytes produced (or, on a replica, applied) so far.
    pub master_repl_offset: i64,
    pub backlog: Option<Backlog>,
    /// Offset of the first byte in the backlog.
    pub backlog_first_offset: i64,
    /// The database the stream has selected.
    pub selected: Option<usize>,
    /// Stream bytes not yet handed to replica connections.
    pub unsent: Vec<u8>,
    /// A command of our master's stream is running: it sees keys the master
    /// still has even when our clock says they expired.
    pub applying_master_stream: bool,
    /// Replicas attached to this node.
    pub replicas: Vec<ReplicaLink>,
    /// WAIT callers: client id -> (replicas wanted, offset to reach).
    pub waits: std::collections::HashMap<u64, (usize, i64)>,
    pub getack_requested: bool,
    pub last_ping_ms: i64,
    pub no_replicas_since_ms: i64,
    /// Set when this node is a replica.
    pub master: Option<MasterLink>,
    /// REPLCONF ACK messages for our master (answers to GETACK).
    pub ack_to_master: Vec<Vec<u8>>,
    /// The end mark of the diskless payload being streamed.
    pub eof_mark: String,
}

impl Replication {
    pub fn new(replid: String) -> Self {
        Replication {
            replid,
            replid2: "0".repeat(40),
            second_replid_offset: -1,
            master_repl_offset: 0,
            backlog: None,
            backlog_first_offset: 0,
            selected: None,
            unsent: Vec::new(),
            applying_master_stream: false,
            replicas: Vec::new(),
            waits: Default::default(),
            getack_requested: false,
            last_ping_ms: 0,
            no_replicas_since_ms: 0,
            master: None,
            ack_to_master: Vec::new(),
            eof_mark: String::new(),
        }
    }

    /// Whether a backlog exists (replicas are or were attached).
    pub fn has_stream(&self) -> bool {
        self.backlog.is_some()
    }

    /// Appends one effect to the stream.
    pub fn feed(&mut self, db: Option<usize>, argv: &[Vec<u8>]) {
        // A replica's stream is its master's bytes (fed by
        // `apply_master_command`), never its own clients' writes.
        if self.backlog.is_none() || self.master.is_some() {
            return;
        }
        let start = self.unsent.len();
        encode_for_stream(&mut self.unsent, &mut self.selected, db, argv);
        let (backlog, added) = (self.backlog.as_mut().expect("checked"), &self.unsent[start..]);
        backlog.append(added);
        self.master_repl_offset += added.len() as i64;
        self.update_first_offset();
    }

    /// Appends raw stream bytes (a master's stream passing through a replica).
    pub fn feed_raw(&mut self, data: &[u8]) {
        self.master_repl_offset += data.len() as i64;
        if let Some(b) = self.backlog.as_mut() {
            b.append(data);
            self.unsent.extend_from_slice(data);
        }
        self.update_first_offset();
    }

    fn update_first_offset(&mut self) {
        if let Some(b) = &self.backlog {
            self.backlog_first_offset = self.master_repl_offset - b.histlen as i64 + 1;
        }
    }

    pub fn update_first_offset_pub(&mut self) {
        self.update_first_offset();
    }

    /// Creates the backlog when the first replica attaches.
    pub fn ensure_backlog(&mut self, size: usize) {
        if self.backlog.is_none() {
            self.backlog = Some(Backlog::new(size));
            self.backlog_first_offset = self.master_repl_offset + 1;
        }
    }

    /// The bytes from `offset` (a replica's next wanted byte, 1-based as in
    /// PSYNC `offset + 1`) to the end, if the backlog still holds them.
    pub fn backlog_from(&self, offset: i64) -> Option<Vec<u8>> {
        let b = self.backlog.as_ref()?;
        if offset < self.backlog_first_offset || offset > self.master_repl_offset + 1 {
            return None;
        }
        let n = (self.master_repl_offset + 1 - offset) as usize;
        Some(b.tail(n))
    }

    /// A promotion: the old ID stays valid for partial resyncs up to here.
    pub fn shift_replid(&mut self, new_id: String) {
        self.replid2 = std::mem::replace(&mut self.replid, new_id);
        self.second_replid_offset = self.master_repl_offset + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_keeps_the_most_recent_bytes() {
        let mut b = Backlog::new(16 * 1024);
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        b.append(&data[..10_000]);
        b.append(&data[10_000..]);
        assert_eq!(b.histlen, 16 * 1024);
        assert_eq!(b.tail(100), data[data.len() - 100..]);
        assert_eq!(b.tail(16 * 1024), data[data.len() - 16 * 1024..]);
        b.resize(20 * 1024);
        assert_eq!(b.tail(16 * 1024), data[data.len() - 16 * 1024..]);
    }

    #[test]
    fn partial_resync_window() {
        let mut r = Replication::new("a".repeat(40));
        r.ensure_backlog(16 * 1024);
        r.feed(Some(0), &[b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]);
        let all = r.backlog_from(1).unwrap();
        assert!(all.starts_with(b"*2\r\n$6\r\nSELECT"));
        assert_eq!(all.len() as i64, r.master_repl_offset);
        assert_eq!(r.backlog_from(r.master_repl_offset + 1).unwrap(), b"");
        assert!(r.backlog_from(r.master_repl_offset + 2).is_none());
    }
}

// ---------------------------------------------------------------------------
// Master side: replicas attached to this node.

use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

/// Where a replica is in its synchronization.
pub enum SyncState {
    /// Needs a snapshot that has not started yet (another one is running).
    WaitSnapshotStart,
    /// Its snapshot is being written; the stream accumulates in `pending`.
    WaitSnapshotEnd,
    /// The RDB file is being sent.
    SendingRdb { file: std::fs::File, remaining: u64 },
    /// A diskless payload was sent; the stream starts at the replica's first
    /// ACK, so its end-of-payload mark is the last thing it reads before.
    WaitAck,
    /// Acknowledged: its pending stream goes out when the event loop next
    /// flushes (the ACK arrives while its connection is busy running it).
    Activating,
    /// Receives the stream as it is produced.
    Online,
}

pub struct ReplicaLink {
    pub client_id: u64,
    pub ip: String,
    pub listening_port: u16,
    pub state: SyncState,
    pub ack_offset: i64,
    pub ack_ms: i64,
    /// Stream bytes produced while the replica's snapshot was prepared and sent.
    pub pending: Vec<u8>,
    /// Understands `$EOF:` payloads.
    pub capa_eof: bool,
    /// Its snapshot streams straight to the socket (no file).
    pub diskless: bool,
    /// When it started waiting for a snapshot (repl-diskless-sync-delay).
    pub waiting_since_ms: i64,
}

impl ReplicaLink {
    fn state_name(&self) -> &'static str {
        match self.state {
            SyncState::WaitSnapshotStart | SyncState::WaitSnapshotEnd => "wait_bgsave",
            SyncState::SendingRdb { .. } | SyncState::WaitAck | SyncState::Activating => "send_bulk",
            SyncState::Online => "online",
        }
    }
}

/// Writes raw bytes to a connected client's output (not the one running now).
fn send_to_client(srv: &mut Server, id: u64, bytes: &[u8]) -> bool {
    let Some(idx) = srv.clients.index_of(id) else {
        return false;
    };
    let Some(c) = srv.clients.get_mut(idx) else {
        return false;
    };
    c.state.out.buf.extend_from_slice(bytes);
    srv.pending_writes.push(idx);
    true
}

fn client_pending_output(srv: &mut Server, id: u64) -> Option<usize> {
    let idx = srv.clients.index_of(id)?;
    srv.clients.get_mut(idx).map(|c| c.state.pending_output())
}

fn close_client(srv: &mut Server, id: u64) {
    if let Some(idx) = srv.clients.index_of(id) {
        if let Some(c) = srv.clients.get_mut(idx) {
            c.state.close_asap = true;
            srv.pending_writes.push(idx);
        }
    }
}

/// Hands stream bytes produced so far to the replicas: online ones get them
/// now, syncing ones keep them until their snapshot is delivered.
fn distribute(srv: &mut Server) {
    if srv.repl.unsent.is_empty() {
        return;
    }
    let data = std::mem::take(&mut srv.repl.unsent);
    let mut online = Vec::new();
    for r in srv.repl.replicas.iter_mut() {
        match r.state {
            SyncState::Online => online.push(r.client_id),
            SyncState::WaitSnapshotEnd | SyncState::SendingRdb { .. } | SyncState::WaitAck | SyncState::Activating => {
                r.pending.extend_from_slice(&data)
            }
            SyncState::WaitSnapshotStart => {}
        }
    }
    for id in online {
        send_to_client(srv, id, &data);
    }
    let mut buf = data;
    buf.clear();
    if buf.capacity() <= 1 << 20 {
        srv.repl.unsent = buf;
    }
}

/// PSYNC/SYNC from a replica connection: a partial resync from the backlog
/// when it can continue, a full one otherwise. Returns the reply to write.
pub fn attach_replica(srv: &mut Server, c: &mut crate::client::ClientState, psync: Option<(&[u8], i64)>) -> Vec<u8> {
    srv.repl.ensure_backlog(srv.config.repl_backlog_size as usize);
    distribute(srv);
    c.replica = true;
    let ip = c.addr.ip().to_string();
    let listening_port = c.replica_listening_port;
    if let Some((id, offset)) = psync {
        let same_history = id == srv.repl.replid.as_bytes()
            || (id == srv.repl.replid2.as_bytes() && offset <= srv.repl.second_replid_offset);
        if same_history {
            if let Some(data) = srv.repl.backlog_from(offset) {
                notice!(
                    "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {}.",
                    c.addr,
                    data.len(),
                    offset
                );
                srv.stats.sync_partial_ok += 1;
                let mut reply = format!("+CONTINUE {}\r\n", srv.repl.replid).into_bytes();
                reply.extend_from_slice(&data);
                srv.repl.replicas.push(ReplicaLink {
                    client_id: c.id,
                    ip,
                    listening_port,
                    state: SyncState::Online,
                    ack_offset: offset - 1,
                    ack_ms: unix_ms(),
                    pending: Vec::new(),
                    capa_eof: c.replica_capa_eof,
                    diskless: false,
                    waiting_since_ms: 0,
                });
                return reply;
            }
        }
        if id != b"?" {
            srv.stats.sync_partial_err += 1;
        }
    }
    srv.stats.sync_full += 1;
    notice!("Full resync requested by replica {}", c.addr);
    srv.repl.replicas.push(ReplicaLink {
        client_id: c.id,
        ip,
        listening_port,
        state: SyncState::WaitSnapshotStart,
        ack_offset: 0,
        ack_ms: unix_ms(),
        pending: Vec::new(),
        capa_eof: c.replica_capa_eof,
        diskless: false,
        waiting_since_ms: unix_ms(),
    });
    let started = start_snapshot_for_waiting(srv, Some(c.id));
    match started {
        Some(reply) if psync.is_some() => reply.into_bytes(),
        // SYNC: the RDB comes without the +FULLRESYNC line.
        _ => Vec::new(),
    }
}

/// Starts a snapshot for replicas waiting for one, if none is running. The
/// +FULLRESYNC line goes to each (for `current`, the running client, it is
/// returned instead). With repl-diskless-sync the RDB streams to the replicas'
/// connections after repl-diskless-sync-delay, otherwise it goes through
/// the RDB file.
pub fn start_snapshot_for_waiting(srv: &mut Server, current: Option<u64>) -> Option<String> {
    let waiting: Vec<&ReplicaLink> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::WaitSnapshotStart))
        .collect();
    if srv.snapshot.is_some() || waiting.is_empty() {
        return None;
    }
    let diskless = srv.config.repl_diskless_sync && waiting.iter().all(|r| r.capa_eof);
    if diskless {
        let oldest = waiting.iter().map(|r| r.waiting_since_ms).min().unwrap_or(0);
        let max = srv.config.repl_diskless_sync_max_replicas as usize;
        let enough = max > 0 && waiting.len() >= max;
        if !enough && unix_ms() - oldest < srv.config.repl_diskless_sync_delay as i64 * 1000 {
            return None;
        }
    }
    distribute(srv);
    let mut payload_header = String::new();
    if diskless {
        let mark = random_replid(srv);
        payload_header = format!("$EOF:{mark}\r\n");
        srv.repl.eof_mark = mark;
        srv.snapshot = Some(crate::snapshot::Snapshot::start_stream(srv));
        notice!("Starting BGSAVE for SYNC with target: replicas sockets");
    } else if let Err(e) = crate::snapshot::start_bgsave(srv) {
        warning!("Can't start the snapshot for replicas: {e}");
        let ids: Vec<u64> = srv
            .repl
            .replicas
            .iter()
            .filter(|r| matches!(r.state, SyncState::WaitSnapshotStart))
            .map(|r| r.client_id)
            .collect();
        for id in ids {
            drop_replica(srv, id);
        }
        return None;
    } else {
        notice!("Starting BGSAVE for SYNC with target: disk");
    }
    // The replicas' stream starts here: make it say which database it is in.
    srv.repl.selected = None;
    let line = format!(
        "+FULLRESYNC {} {}\r\n{payload_header}",
        srv.repl.replid, srv.repl.master_repl_offset
    );
    let mut current_reply = None;
    let mut others = Vec::new();
    for r in srv.repl.replicas.iter_mut() {
        if matches!(r.state, SyncState::WaitSnapshotStart) {
            r.state = SyncState::WaitSnapshotEnd;
            r.diskless = diskless;
            r.pending.clear();
            if Some(r.client_id) == current {
                current_reply = Some(line.clone());
            } else {
                others.push(r.client_id);
            }
        }
    }
    for id in others {
        send_to_client(srv, id, line.as_bytes());
    }
    current_reply
}

/// Replicas receiving a diskless snapshot.
fn streaming_targets(srv: &Server) -> Vec<u64> {
    srv.repl
        .replicas
        .iter()
        .filter(|r| r.diskless && matches!(r.state, SyncState::WaitSnapshotEnd))
        .map(|r| r.client_id)
        .collect()
}

/// Whether a diskless snapshot should pause: a receiving replica has not
/// drained what it was given yet.
pub fn stream_backed_up(srv: &Server) -> bool {
    srv.repl.replicas.iter().any(|r| {
        r.diskless
            && matches!(r.state, SyncState::WaitSnapshotEnd)
            && srv
                .clients
                .index_of(r.client_id)
                .and_then(|i| srv.clients.get(i))
                .is_some_and(|c| c.state.pending_output() > 4 << 20)
    })
}

/// Hands diskless snapshot bytes to the replicas receiving them.
pub fn deliver_snapshot(srv: &mut Server, chunks: Vec<Vec<u8>>) {
    if chunks.is_empty() {
        return;
    }
    for id in streaming_targets(srv) {
        for c in &chunks {
            send_to_client(srv, id, c);
        }
    }
}

/// A diskless snapshot ended: the end mark follows the payload, and each
/// replica goes online at its first ACK.
pub fn stream_done(srv: &mut Server, ok: bool) {
    let mark = std::mem::take(&mut srv.repl.eof_mark);
    for id in streaming_targets(srv) {
        if !ok {
            drop_replica(srv, id);
            continue;
        }
        send_to_client(srv, id, mark.as_bytes());
        if let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.client_id == id) {
            r.state = SyncState::WaitAck;
        }
        notice!("Streamed RDB transfer with replica succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming");
    }
    start_snapshot_for_waiting(srv, None);
}

/// Forgets a replica (its connection closed or is being closed).
pub fn drop_replica(srv: &mut Server, client_id: u64) {
    let before = srv.repl.replicas.len();
    srv.repl.replicas.retain(|r| r.client_id != client_id);
    if srv.repl.replicas.len() != before {
        close_client(srv, client_id);
        if srv.repl.replicas.is_empty() {
            srv.repl.no_replicas_since_ms = unix_ms();
        }
    }
}

/// A BGSAVE ended: replicas waiting for it are sent the file (or dropped).
pub fn bgsave_done(srv: &mut Server, ok: bool) {
    let waiting: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::WaitSnapshotEnd))
        .map(|r| r.client_id)
        .collect();
    for id in waiting {
        let opened = if ok {
            std::fs::File::open(&srv.config.dbfilename)
                .and_then(|f| f.metadata().map(|m| (f, m.len())))
                .ok()
        } else {
            None
        };
        let Some((file, len)) = opened else {
            warning!("SYNC failed. BGSAVE failed or the RDB file can't be read.");
            drop_replica(srv, id);
            continue;
        };
        send_to_client(srv, id, format!("${len}\r\n").as_bytes());
        if let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.client_id == id) {
            r.state = SyncState::SendingRdb { file, remaining: len };
        }
    }
    start_snapshot_for_waiting(srv, None);
}

/// Feeds RDB files to replicas as their sockets drain, then switches them to
/// the live stream.
fn send_rdb_chunks(srv: &mut Server) {
    const CHUNK: usize = 1 << 20;
    let ids: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::SendingRdb { .. }))
        .map(|r| r.client_id)
        .collect();
    for id in ids {
        let Some(queued) = client_pending_output(srv, id) else {
            continue;
        };
        if queued >= CHUNK {
            continue;
        }
        let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.client_id == id) else {
            continue;
        };
        let SyncState::SendingRdb { file, remaining } = &mut r.state else {
            continue;
        };
        let want = (*remaining as usize).min(CHUNK);
        let mut chunk = vec![0u8; want];
        if want > 0 && file.read_exact(&mut chunk).is_err() {
            warning!("Reading the RDB file for a replica failed");
            drop_replica(srv, id);
            continue;
        }
        *remaining -= want as u64;
        let finished = *remaining == 0;
        let pending = if finished {
            r.state = SyncState::Online;
            r.ack_ms = unix_ms();
            std::mem::take(&mut r.pending)
        } else {
            Vec::new()
        };
        chunk.extend_from_slice(&pending);
        send_to_client(srv, id, &chunk);
        if finished {
            notice!("Synchronization with replica succeeded");
        }
    }
}

/// REPLCONF ACK from a replica.
pub fn replica_ack(srv: &mut Server, client_id: u64, offset: i64) {
    if let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.client_id == client_id) {
        r.ack_offset = r.ack_offset.max(offset);
        r.ack_ms = unix_ms();
        if matches!(r.state, SyncState::WaitAck) {
            r.state = SyncState::Activating;
        }
    }
    check_waits(srv);
}

/// Replicas that acknowledged at least `offset`.
pub fn replicas_acked(srv: &Server, offset: i64) -> usize {
    srv.repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::Online) && r.ack_offset >= offset)
        .count()
}

/// Releases WAIT callers whose replicas caught up.
fn check_waits(srv: &mut Server) {
    let ready: Vec<u64> = srv
        .repl
        .waits
        .iter()
        .filter(|(_, &(n, off))| replicas_acked(srv, off) >= n)
        .map(|(&id, _)| id)
        .collect();
    for id in ready {
        srv.unblock_requests.push((id, false));
    }
}

/// Asks replicas to acknowledge their offset (WAIT).
pub fn request_acks(srv: &mut Server) {
    srv.repl.getack_requested = true;
}

/// Event-loop hook, before it sleeps: hands new stream bytes to replicas,
/// moves RDB transfers along and polls the replica-side sync.
pub fn before_sleep(srv: &mut Server) {
    if srv.repl.getack_requested {
        srv.repl.getack_requested = false;
        if srv.repl.replicas.iter().any(|r| matches!(r.state, SyncState::Online)) {
            srv.repl
                .feed(None, &[b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()]);
        }
    }
    distribute(srv);
    let activating: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::Activating))
        .map(|r| r.client_id)
        .collect();
    for id in activating {
        if let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.client_id == id) {
            r.state = SyncState::Online;
            let pending = std::mem::take(&mut r.pending);
            send_to_client(srv, id, &pending);
            notice!("Synchronization with replica succeeded");
        }
    }
    if srv.snapshot.is_none()
        && srv
            .repl
            .replicas
            .iter()
            .any(|r| matches!(r.state, SyncState::WaitSnapshotStart))
    {
        start_snapshot_for_waiting(srv, None);
    }
    if !srv.repl.ack_to_master.is_empty() {
        let acks = std::mem::take(&mut srv.repl.ack_to_master);
        if let Some(id) = srv.repl.master.as_ref().and_then(|l| l.client_id) {
            for a in acks {
                send_to_client(srv, id, &a);
            }
        }
    }
    if srv
        .repl
        .replicas
        .iter()
        .any(|r| matches!(r.state, SyncState::SendingRdb { .. }))
    {
        send_rdb_chunks(srv);
    }
}

/// Once a second: pings replicas, drops timed-out ones, frees an unused backlog.
pub fn cron(srv: &mut Server) {
    let now = unix_ms();
    // Forget replicas whose connection went away.
    let gone: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| srv.clients.index_of(r.client_id).is_none())
        .map(|r| r.client_id)
        .collect();
    for id in gone {
        drop_replica(srv, id);
    }
    let timeout_ms = srv.config.repl_timeout as i64 * 1000;
    let stale: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::Online) && now - r.ack_ms > timeout_ms)
        .map(|r| r.client_id)
        .collect();
    for id in stale {
        warning!("Disconnecting timedout replica (streaming sync)");
        drop_replica(srv, id);
    }
    let period = srv.config.repl_ping_replica_period.max(1) as i64 * 1000;
    if srv.repl.master.is_none() && !srv.repl.replicas.is_empty() && now - srv.repl.last_ping_ms >= period {
        srv.repl.last_ping_ms = now;
        srv.repl.feed(None, &[b"PING".to_vec()]);
    }
    // Replicas still waiting for their payload to start get a newline now and
    // then, so they do not time out (Redis does the same). Never once a
    // diskless payload is flowing: a newline there would corrupt it.
    let waiting: Vec<u64> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| match r.state {
            SyncState::WaitSnapshotStart => true,
            SyncState::WaitSnapshotEnd => !r.diskless,
            _ => false,
        })
        .map(|r| r.client_id)
        .collect();
    for id in waiting {
        send_to_client(srv, id, b"\n");
    }
    let ttl = srv.config.repl_backlog_ttl as i64 * 1000;
    if srv.repl.master.is_none()
        && srv.repl.replicas.is_empty()
        && srv.repl.backlog.is_some()
        && ttl > 0
        && now - srv.repl.no_replicas_since_ms > ttl
    {
        notice!(
            "Replication backlog freed after {} seconds without connected replicas.",
            ttl / 1000
        );
        srv.repl.backlog = None;
        let id = random_replid(srv);
        srv.repl.shift_replid(id);
        srv.repl.replid2 = "0".repeat(40);
        srv.repl.second_replid_offset = -1;
    }
    if let Some(b) = srv.repl.backlog.as_mut() {
        b.resize(srv.config.repl_backlog_size as usize);
        srv.repl.update_first_offset_pub();
    }
    replica_cron(srv, now);
}

pub fn random_replid(srv: &mut Server) -> String {
    (0..40)
        .map(|_| char::from_digit(srv.rng.below(16) as u32, 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------
// Replica side: the link to our master.

/// How far the link to the master got.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting to (re)connect.
    Connect,
    /// Handshake and transfer in progress on the sync thread.
    Syncing,
    /// The master's stream flows into the master client.
    Connected,
}

pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// The connected master client, once synced.
    pub client_id: Option<u64>,
    pub last_io_ms: i64,
    pub down_since_ms: i64,
    pub next_attempt_ms: i64,
    pub attempts: u32,
    /// The database our master's stream had selected when the link dropped.
    pub stream_db: usize,
    /// Whether the sync being adopted was partial (the stream continues).
    pub partial: bool,
    sync: Option<SyncJob>,
    /// Transfer progress, shared with the sync thread.
    pub transfer: Arc<Transfer>,
}

#[derive(Default)]
pub struct Transfer {
    pub total: std::sync::atomic::AtomicI64,
    pub read: std::sync::atomic::AtomicI64,
}

struct SyncJob {
    cancel: Arc<AtomicBool>,
    rx: Receiver<Result<SyncOutcome, String>>,
}

/// What the sync thread hands back.
pub enum SyncOutcome {
    Full {
        replid: String,
        offset: i64,
        rdb_path: String,
        stream: std::net::TcpStream,
        leftover: Vec<u8>,
    },
    Partial {
        new_replid: Option<String>,
        stream: std::net::TcpStream,
        leftover: Vec<u8>,
    },
}

/// A connected master link for the event loop to adopt as a client.
pub struct Adopt {
    pub stream: std::net::TcpStream,
    pub leftover: Vec<u8>,
}

/// REPLICAOF host port: (re)points this node at a master.
pub fn set_master(srv: &mut Server, host: String, port: u16) {
    let was_master = srv.repl.master.is_none();
    cancel_link(srv);
    if was_master {
        // Our own history continues as the basis of a partial resync: keep the
        // replication ID and offset (Redis caches the master state the same way).
        srv.repl.ensure_backlog(srv.config.repl_backlog_size as usize);
    }
    // Replicas of ours must resync with the new history.
    let ids: Vec<u64> = srv.repl.replicas.iter().map(|r| r.client_id).collect();
    for id in ids {
        drop_replica(srv, id);
    }
    for db in srv.keyspace.dbs.iter_mut() {
        db.expire_on_lookup = false;
    }
    crate::log::set_role('S');
    notice!("Connecting to MASTER {host}:{port}");
    srv.repl.master = Some(MasterLink {
        host,
        port,
        state: LinkState::Connect,
        client_id: None,
        last_io_ms: 0,
        down_since_ms: unix_ms(),
        next_attempt_ms: 0,
        attempts: 0,
        stream_db: 0,
        partial: false,
        sync: None,
        transfer: Arc::default(),
    });
}

/// REPLICAOF NO ONE: becomes a master, keeping the data and letting other
/// replicas of the old master continue from us with a partial resync.
pub fn promote(srv: &mut Server) {
    if srv.repl.master.is_none() {
        return;
    }
    cancel_link(srv);
    srv.repl.master = None;
    crate::log::set_role('M');
    srv.repl.selected = None;
    let id = random_replid(srv);
    srv.repl.shift_replid(id);
    // The backlog's time-to-live without replicas starts now, as in Redis: a
    // stale start would free it (and forget replid2) at the next cron tick,
    // before the old master's other replicas could continue from us.
    srv.repl.no_replicas_since_ms = unix_ms();
    for db in srv.keyspace.dbs.iter_mut() {
        db.expire_on_lookup = true;
    }
    let ids: Vec<u64> = srv.repl.replicas.iter().map(|r| r.client_id).collect();
    for id in ids {
        drop_replica(srv, id);
    }
    notice!("MASTER MODE enabled (user request from 'id=?')");
}

fn cancel_link(srv: &mut Server) {
    let Some(link) = srv.repl.master.as_mut() else {
        return;
    };
    if let Some(job) = link.sync.take() {
        job.cancel.store(true, Ordering::SeqCst);
    }
    if let Some(id) = link.client_id.take() {
        close_client(srv, id);
    }
}

/// The master client's connection closed.
pub fn master_link_lost(srv: &mut Server, client_id: u64, db: usize) {
    let Some(link) = srv.repl.master.as_mut() else {
        return;
    };
    if link.client_id == Some(client_id) {
        // A partial resync continues the stream in the database it was in.
        link.stream_db = db;
        link.client_id = None;
        link.state = LinkState::Connect;
        link.down_since_ms = unix_ms();
        link.next_attempt_ms = unix_ms() + 1000;
        notice!("Connection with master lost.");
    }
}

fn replica_cron(srv: &mut Server, now: i64) {
    if srv.loading.is_some() {
        return;
    }
    let timeout_ms = srv.config.repl_timeout as i64 * 1000;
    let my_port = if srv.config.replica_announce_port != 0 {
        srv.config.replica_announce_port
    } else {
        srv.tcp_port
    };
    let auth = if srv.config.masterauth.is_empty() {
        None
    } else {
        let user = (!srv.config.masteruser.is_empty()).then(|| srv.config.masteruser.clone());
        Some((user, srv.config.masterauth.clone()))
    };
    let (replid, offset) = (srv.repl.replid.clone(), srv.repl.master_repl_offset);
    let ack = srv.repl.master_repl_offset;
    let Some(link) = srv.repl.master.as_mut() else {
        return;
    };
    match link.state {
        LinkState::Connect if now >= link.next_attempt_ms => {
            link.state = LinkState::Syncing;
            link.attempts += 1;
            link.transfer = Arc::default();
            let cancel = Arc::new(AtomicBool::new(false));
            let (tx, rx) = channel();
            let params = SyncParams {
                host: link.host.clone(),
                port: link.port,
                auth,
                listening_port: my_port,
                replid,
                offset,
                timeout: std::time::Duration::from_millis(timeout_ms as u64),
                cancel: cancel.clone(),
                transfer: link.transfer.clone(),
            };
            link.sync = Some(SyncJob { cancel, rx });
            let spawned = std::thread::Builder::new().name("repl-sync".into()).spawn(move || {
                let _ = tx.send(sync_with_master(params));
            });
            if spawned.is_err() {
                link.sync = None;
                link.state = LinkState::Connect;
                link.next_attempt_ms = now + 1000;
            }
        }
        LinkState::Connected => {
            if let Some(id) = link.client_id {
                if now - link.last_io_ms > timeout_ms {
                    warning!("MASTER timeout: no data nor PING received...");
                    close_client(srv, id);
                    return;
                }
                let mut msg = Vec::new();
                crate::propagate::encode_command(
                    &mut msg,
                    &[b"REPLCONF".to_vec(), b"ACK".to_vec(), ack.to_string().into_bytes()],
                );
                send_to_client(srv, id, &msg);
            }
        }
        _ => {}
    }
}

/// Event-loop hook: when the sync thread finished, loads what it fetched and
/// returns the connection for the event loop to adopt as the master client.
pub fn poll_sync(srv: &mut Server) -> Option<Adopt> {
    let link = srv.repl.master.as_ref()?;
    // Replication starts once the start-up load is done (it may continue
    // partially from what the file holds).
    if link.state == LinkState::Connect && srv.loading.is_none() {
        // Connect as soon as REPLICAOF (or the retry delay) allows.
        let now = unix_ms();
        if now >= link.next_attempt_ms {
            replica_cron(srv, now);
        }
        return None;
    }
    let link = srv.repl.master.as_mut()?;
    let job = link.sync.as_ref()?;
    let result = job.rx.try_recv().ok()?;
    link.sync = None;
    match result {
        Err(e) => {
            warning!("Master sync failed: {e}");
            link.state = LinkState::Connect;
            link.next_attempt_ms = unix_ms() + 1000;
            None
        }
        Ok(SyncOutcome::Partial {
            new_replid,
            stream,
            leftover,
        }) => {
            notice!("Successful partial resynchronization with master.");
            link.partial = true;
            if let Some(id) = new_replid {
                if id != srv.repl.replid {
                    srv.repl.shift_replid(id);
                    notice!("Master replication ID changed to {}", srv.repl.replid);
                }
            }
            Some(Adopt { stream, leftover })
        }
        Ok(SyncOutcome::Full {
            replid,
            offset,
            rdb_path,
            stream,
            leftover,
        }) => {
            link.partial = false;
            notice!("MASTER <-> REPLICA sync: Flushing old data");
            let old = srv.keyspace.take_all();
            srv.lazyfree.free(old);
            notice!("MASTER <-> REPLICA sync: Loading DB in memory");
            let loaded = crate::commands::persistence::load_rdb_for_replica(srv, &rdb_path);
            let _ = std::fs::remove_file(&rdb_path);
            if let Err(e) = loaded {
                warning!("Failed trying to load the MASTER synchronization DB from disk: {e}");
                if let Some(link) = srv.repl.master.as_mut() {
                    link.state = LinkState::Connect;
                    link.next_attempt_ms = unix_ms() + 1000;
                }
                return None;
            }
            for db in srv.keyspace.dbs.iter_mut() {
                db.expire_on_lookup = false;
            }
            srv.repl.replid = replid;
            srv.repl.replid2 = "0".repeat(40);
            srv.repl.second_replid_offset = -1;
            srv.repl.master_repl_offset = offset;
            srv.repl.backlog = None;
            srv.repl.selected = None;
            srv.repl.ensure_backlog(srv.config.repl_backlog_size as usize);
            let ids: Vec<u64> = srv.repl.replicas.iter().map(|r| r.client_id).collect();
            for id in ids {
                drop_replica(srv, id);
            }
            notice!("MASTER <-> REPLICA sync: Finished with success");
            crate::aof::dataset_replaced(srv);
            Some(Adopt { stream, leftover })
        }
    }
}

/// The event loop adopted the connection as client `client_id`. Returns the
/// database the master client starts in.
pub fn master_connected(srv: &mut Server, client_id: u64) -> usize {
    let Some(link) = srv.repl.master.as_mut() else {
        return 0;
    };
    {
        link.client_id = Some(client_id);
        link.state = LinkState::Connected;
        link.last_io_ms = unix_ms();
        link.attempts = 0;
    }
    let db = if link.partial { link.stream_db } else { 0 };
    // Acknowledge at once: a master that streamed a diskless payload starts
    // the command stream at this first ACK.
    let offset = srv.repl.master_repl_offset;
    let mut msg = Vec::new();
    crate::propagate::encode_command(
        &mut msg,
        &[b"REPLCONF".to_vec(), b"ACK".to_vec(), offset.to_string().into_bytes()],
    );
    srv.repl.ack_to_master.push(msg);
    db
}

/// Whether `client_id` is our master's connection.
pub fn is_master_client(srv: &Server, client_id: u64) -> bool {
    srv.repl.master.as_ref().is_some_and(|l| l.client_id == Some(client_id))
}

struct SyncParams {
    host: String,
    port: u16,
    auth: Option<(Option<String>, String)>,
    listening_port: u16,
    replid: String,
    offset: i64,
    timeout: std::time::Duration,
    cancel: Arc<AtomicBool>,
    transfer: Arc<Transfer>,
}

/// A blocking reader over the master connection that keeps what it read past
/// the part consumed (the start of the stream after the RDB).
struct LinkReader {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
    cancel: Arc<AtomicBool>,
}

impl LinkReader {
    fn fill(&mut self) -> Result<(), String> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err("replication cancelled".into());
        }
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err("connection closed by master".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(format!("error reading from master: {e}")),
        }
    }

    /// One reply line without CRLF.
    fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                return Ok(text);
            }
            if self.buf.len() > 64 * 1024 {
                return Err("protocol error: line too long".into());
            }
            self.fill()?;
        }
    }

    /// A line that is not a keepalive newline.
    fn reply_line(&mut self) -> Result<String, String> {
        loop {
            let l = self.line()?;
            if !l.is_empty() {
                return Ok(l);
            }
        }
    }

    fn command(&mut self, argv: &[&str]) -> Result<String, String> {
        let owned: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        let mut msg = Vec::new();
        crate::propagate::encode_command(&mut msg, &owned);
        self.stream
            .write_all(&msg)
            .map_err(|e| format!("error writing to master: {e}"))?;
        self.reply_line()
    }
}

fn sync_with_master(p: SyncParams) -> Result<SyncOutcome, String> {
    use std::net::ToSocketAddrs;
    let addr = (p.host.as_str(), p.port)
        .to_socket_addrs()
        .map_err(|e| format!("can't resolve {}: {e}", p.host))?
        .next()
        .ok_or_else(|| format!("can't resolve {}", p.host))?;
    let stream = std::net::TcpStream::connect_timeout(&addr, p.timeout.min(std::time::Duration::from_secs(10)))
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream.set_read_timeout(Some(p.timeout)).map_err(|e| e.to_string())?;
    let mut r = LinkReader {
        stream,
        buf: Vec::new(),
        cancel: p.cancel.clone(),
    };
    let pong = r.command(&["PING"])?;
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if let Some((user, pass)) = &p.auth {
        let reply = match user {
            Some(u) => r.command(&["AUTH", u, pass])?,
            None => r.command(&["AUTH", pass])?,
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port = p.listening_port.to_string();
    let _ = r.command(&["REPLCONF", "listening-port", &port])?;
    let _ = r.command(&["REPLCONF", "capa", "eof", "capa", "psync2"])?;
    let want = (p.offset + 1).to_string();
    let reply = r.command(&["PSYNC", &p.replid, &want])?;
    if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let id = rest.trim();
        let new_replid = (id.len() == 40).then(|| id.to_string());
        let leftover = std::mem::take(&mut r.buf);
        return Ok(SyncOutcome::Partial {
            new_replid,
            stream: r.stream,
            leftover,
        });
    }
    let Some(rest) = reply.strip_prefix("+FULLRESYNC ") else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    };
    let mut parts = rest.split_whitespace();
    let replid = parts.next().unwrap_or_default().to_string();
    let offset: i64 = parts
        .next()
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| format!("bad FULLRESYNC reply: {reply}"))?;
    // The payload: `$<len>` or, diskless, `$EOF:<40-byte mark>` ... mark.
    let header = r.reply_line()?;
    let Some(spec) = header.strip_prefix('$') else {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$': {header}"));
    };
    let rdb_path = format!("temp-{}-{}.rdb", unix_ms(), std::process::id());
    let mut file = std::fs::File::create(&rdb_path)
        .map_err(|e| format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}"))?;
    let result = receive_payload(&mut r, spec, &mut file, &p.transfer);
    if let Err(e) = result.and_then(|_| file.sync_all().map_err(|e| e.to_string())) {
        let _ = std::fs::remove_file(&rdb_path);
        return Err(e);
    }
    let leftover = std::mem::take(&mut r.buf);
    Ok(SyncOutcome::Full {
        replid,
        offset,
        rdb_path,
        stream: r.stream,
        leftover,
    })
}

fn receive_payload(
    r: &mut LinkReader,
    spec: &str,
    file: &mut std::fs::File,
    transfer: &Transfer,
) -> Result<(), String> {
    let write =
        |file: &mut std::fs::File, data: &[u8]| file.write_all(data).map_err(|e| format!("writing the RDB: {e}"));
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            return Err("bad EOF mark".into());
        }
        transfer.total.store(-1, Ordering::Relaxed);
        // Everything up to the mark is the RDB; keep the last 40 bytes back
        // until more arrives, since they may be the start of the mark.
        loop {
            if r.buf.len() >= 40 && r.buf.ends_with(&mark) {
                let n = r.buf.len() - 40;
                write(file, &r.buf[..n])?;
                transfer.read.fetch_add(n as i64, Ordering::Relaxed);
                r.buf.clear();
                return Ok(());
            }
            if r.buf.len() > 40 {
                let n = r.buf.len() - 40;
                write(file, &r.buf[..n])?;
                transfer.read.fetch_add(n as i64, Ordering::Relaxed);
                r.buf.drain(..n);
            }
            r.fill()?;
        }
    }
    let mut left: u64 = spec
        .parse()
        .map_err(|_| format!("bad bulk length from master: {spec}"))?;
    transfer.total.store(left as i64, Ordering::Relaxed);
    while left > 0 {
        if r.buf.is_empty() {
            r.fill()?;
        }
        let n = (left as usize).min(r.buf.len());
        write(file, &r.buf[..n])?;
        r.buf.drain(..n);
        left -= n as u64;
        transfer.read.fetch_add(n as i64, Ordering::Relaxed);
    }
    Ok(())
}

/// INFO replication, with Redis's field names and order.
pub fn info_section(srv: &Server) -> String {
    use std::fmt::Write as _;
    let r = &srv.repl;
    let now = unix_ms();
    let mut s = String::from("# Replication\r\n");
    let mut field = |k: &str, v: String| {
        let _ = write!(s, "{k}:{v}\r\n");
    };
    match &r.master {
        None => field("role", "master".into()),
        Some(link) => {
            field("role", "slave".into());
            field("master_host", link.host.clone());
            field("master_port", link.port.to_string());
            let up = link.state == LinkState::Connected;
            field("master_link_status", if up { "up" } else { "down" }.into());
            let io = if up { (now - link.last_io_ms) / 1000 } else { -1 };
            field("master_last_io_seconds_ago", io.to_string());
            let syncing = link.state == LinkState::Syncing;
            field("master_sync_in_progress", (syncing as u8).to_string());
            field("slave_read_repl_offset", r.master_repl_offset.to_string());
            field("slave_repl_offset", r.master_repl_offset.to_string());
            if syncing {
                let total = link.transfer.total.load(Ordering::Relaxed);
                let read = link.transfer.read.load(Ordering::Relaxed);
                field("master_sync_total_bytes", total.to_string());
                field("master_sync_read_bytes", read.to_string());
                field("master_sync_left_bytes", (total - read).to_string());
                let perc = if total > 0 {
                    read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                field("master_sync_perc", format!("{perc:.2}"));
                field("master_sync_last_io_seconds_ago", "0".into());
            }
            if !up {
                field(
                    "master_link_down_since_seconds",
                    ((now - link.down_since_ms) / 1000).to_string(),
                );
            }
            field("slave_priority", srv.config.replica_priority.to_string());
            field("slave_read_only", (srv.config.replica_read_only as u8).to_string());
            field("replica_announced", (srv.config.replica_announced as u8).to_string());
        }
    }
    field("connected_slaves", r.replicas.len().to_string());
    if srv.config.min_replicas_to_write > 0 && srv.config.min_replicas_max_lag > 0 {
        field("min_slaves_good_slaves", good_replicas(srv).to_string());
    }
    for (i, link) in r.replicas.iter().enumerate() {
        let lag = (now - link.ack_ms) / 1000;
        field(
            &format!("slave{i}"),
            format!(
                "ip={},port={},state={},offset={},lag={}",
                link.ip,
                link.listening_port,
                link.state_name(),
                link.ack_offset,
                lag
            ),
        );
    }
    field("master_failover_state", "no-failover".into());
    field("master_replid", r.replid.clone());
    field("master_replid2", r.replid2.clone());
    field("master_repl_offset", r.master_repl_offset.to_string());
    field("second_repl_offset", r.second_replid_offset.to_string());
    field("repl_backlog_active", (r.backlog.is_some() as u8).to_string());
    field("repl_backlog_size", srv.config.repl_backlog_size.to_string());
    let (first, hist) = match &r.backlog {
        Some(b) => (r.backlog_first_offset, b.histlen),
        None => (0, 0),
    };
    field("repl_backlog_first_byte_offset", first.to_string());
    field("repl_backlog_histlen", hist.to_string());
    s
}

/// Online replicas whose last ACK is within min-replicas-max-lag.
pub fn good_replicas(srv: &Server) -> usize {
    let now = unix_ms();
    let max_lag = srv.config.min_replicas_max_lag as i64 * 1000;
    srv.repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::Online) && now - r.ack_ms <= max_lag)
        .count()
}

/// Memory held by the backlog (INFO memory).
pub fn backlog_memory(srv: &Server) -> usize {
    srv.repl.backlog.as_ref().map_or(0, |b| b.size())
}

/// Runs one command of our master's stream: no reply goes back, and the
/// bytes continue to our own replicas and backlog unchanged.
pub fn apply_master_command(srv: &mut Server, c: &mut crate::client::ClientState, args: &[&[u8]], consumed: i64) {
    if let Some(link) = srv.repl.master.as_mut() {
        link.last_io_ms = unix_ms();
    }
    srv.repl.applying_master_stream = true;
    crate::dispatch::execute(srv, c, args);
    srv.repl.applying_master_stream = false;
    c.out.buf.clear();
    c.sent = 0;
    let _ = c.out.take_errors();
    srv.repl.master_repl_offset += consumed;
    if srv.repl.backlog.is_some() {
        let start = srv.repl.unsent.len();
        let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        crate::propagate::encode_command(&mut srv.repl.unsent, &owned);
        let b = srv.repl.backlog.as_mut().expect("checked");
        b.append(&srv.repl.unsent[start..]);
        srv.repl.update_first_offset();
    }
}

/// A replica's connection closed.
pub fn forget_replica(srv: &mut Server, client_id: u64) {
    srv.repl.replicas.retain(|r| r.client_id != client_id);
    if srv.repl.replicas.is_empty() {
        srv.repl.no_replicas_since_ms = unix_ms();
    }
}
