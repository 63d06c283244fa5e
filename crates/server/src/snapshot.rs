//! BGSAVE without fork: a point-in-time RDB image built incrementally by the
//! engine thread while it keeps serving clients.
//!
//! The snapshot walks (database, hash slot) in order, a bounded slice of work
//! per event-loop turn. Before a write command touches a key the walk has not
//! reached yet, that key's current value is serialized first (copy-before-write
//! at key granularity) and remembered so the walk skips it later. Commands that
//! change keys they do not name (scripts with undeclared keys) first finish
//! the walk. A flushed database's old contents stay with the walk until it is
//! through them, and SWAPDB swaps where the walk reads each database. FLUSHALL
//! abandons an RDB snapshot instead, as Redis kills its child.
//! Serialized bytes go to a writer thread that owns the file, the CRC64, the
//! fsync and the final rename, so the engine never waits on the disk. Extra
//! memory is the set of keys saved ahead of the walk plus in-flight buffers.

use crate::server::Server;
use crate::{notice, warning};
use shoal_persist::rdb::{write_entry, write_header, write_select_db, Access};
use shoal_persist::Options;
use shoal_store::SLOTS;
use std::collections::HashSet;
use std::io::Write;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

enum Chunk {
    Data(Vec<u8>),
    /// Write the EOF opcode and checksum, fsync, rename.
    Finish,
}

/// What a snapshot is for, which decides what happens when it ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purpose {
    /// BGSAVE, a save point, or a full sync to replicas (they are sent the file).
    Bgsave,
    /// The base file of an AOF rewrite.
    AofRewrite,
    /// Diskless full sync: the RDB goes straight to replicas' connections.
    ReplicaStream,
}

/// Where serialized bytes go.
enum Output {
    /// A writer thread owns the file, the CRC64, the fsync and the rename.
    File {
        tx: Sender<Chunk>,
        done: Receiver<Result<u64, String>>,
    },
    /// Chunks wait here for the engine to hand them to replica connections.
    Stream {
        ready: Vec<Vec<u8>>,
        crc: u64,
        checksum: bool,
        bytes: u64,
        finished: bool,
    },
}

pub struct Snapshot {
    pub purpose: Purpose,
    db: usize,
    slot: usize,
    saved_ahead: HashSet<(usize, Vec<u8>)>,
    buf: Vec<u8>,
    /// The database the last entry in the stream belongs to.
    stream_db: Option<usize>,
    output: Output,
    access: Access,
    opts: Options,
    pub keys: u64,
    pub started: Instant,
    walk_finished: bool,
    finish_sent: bool,
    /// `rdb-key-save-delay`: the walk emits a key per this much time (it
    /// waits between slices instead of sleeping, so clients are served).
    key_delay: Option<Duration>,
    /// With a key delay: when the walk may emit its next key.
    paced_until: Instant,
    /// Databases flushed (FLUSHDB, or FLUSHALL during an AOF rewrite) before
    /// the walk got through them: the walk reads their old contents here, so
    /// a flush never waits for the walk.
    detached: Vec<Option<shoal_store::Db>>,
    /// Detached databases the walk is done with, for the lazyfree thread.
    spent: Vec<shoal_store::Db>,
    /// Where each database of the image lives now: SWAPDB during the
    /// snapshot swaps these instead of making the walk finish first.
    live_of: Vec<usize>,
}

impl Snapshot {
    /// Starts a background save to `path` (through a temp file).
    pub fn start(srv: &Server, path: &str, purpose: Purpose) -> Result<Snapshot, String> {
        // One name per snapshot (as Redis's temp-<child pid>.rdb): the writer
        // of an abandoned snapshot may still be removing its file while the
        // next snapshot writes its own.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = format!("temp-bg-{}-{seq}.rdb", std::process::id());
        let file = std::fs::File::create(&tmp).map_err(|e| format!("Failed opening the temp RDB file {tmp}: {e}"))?;
        let (tx, rx) = channel::<Chunk>();
        let (done_tx, done) = channel();
        let final_path = path.to_string();
        let checksum = srv.config.rdbchecksum;
        let file = crate::commands::persistence::AutoSync::new(
            file,
            if purpose == Purpose::AofRewrite {
                srv.config.aof_rewrite_incremental_fsync
            } else {
                srv.config.rdb_save_incremental_fsync
            },
        );
        std::thread::Builder::new()
            .name("bgsave".into())
            .spawn(move || {
                let result = write_file(file, rx, checksum, &tmp, &final_path);
                let _ = done_tx.send(result);
            })
            .map_err(|e| format!("Can't start the background save thread: {e}"))?;
        Ok(Self::new(srv, purpose, Output::File { tx, done }))
    }

    /// Starts a snapshot whose bytes are handed out with [`Snapshot::take_ready`].
    pub fn start_stream(srv: &Server) -> Snapshot {
        let output = Output::Stream {
            ready: Vec::new(),
            crc: 0,
            checksum: srv.config.rdbchecksum,
            bytes: 0,
            finished: false,
        };
        Self::new(srv, Purpose::ReplicaStream, output)
    }

    fn new(srv: &Server, purpose: Purpose, output: Output) -> Snapshot {
        let mut buf = Vec::with_capacity(1 << 16);
        let ctime = (crate::server::unix_ms() / 1000).to_string();
        let aux = [
            ("redis-ver", crate::server::VERSION.as_bytes().to_vec()),
            ("redis-bits", b"64".to_vec()),
            ("ctime", ctime.into_bytes()),
            ("used-mem", srv.memory.used().to_string().into_bytes()),
            (
                "aof-base",
                if purpose == Purpose::AofRewrite { b"1" } else { b"0" }.to_vec(),
            ),
        ];
        write_header(&mut buf, &aux);
        shoal_persist::rdb::write_functions(
            &mut buf,
            &srv.scripts.functions.codes(),
            crate::commands::persistence::options(srv).compress,
        );
        let access = crate::commands::persistence::rdb_access(srv);
        Snapshot {
            purpose,
            db: 0,
            slot: 0,
            saved_ahead: HashSet::new(),
            buf,
            stream_db: None,
            output,
            access,
            opts: crate::commands::persistence::options(srv),
            keys: 0,
            started: Instant::now(),
            walk_finished: false,
            finish_sent: false,
            key_delay: match srv.config.rdb_key_save_delay.unsigned_abs() {
                0 => None,
                us => Some(Duration::from_micros(us as u64)),
            },
            paced_until: Instant::now(),
            detached: Vec::new(),
            spent: Vec::new(),
            live_of: (0..srv.keyspace.dbs.len()).collect(),
        }
    }

    fn ship(&mut self, data: Vec<u8>) {
        match &mut self.output {
            Output::File { tx, .. } => {
                let _ = tx.send(Chunk::Data(data));
            }
            Output::Stream {
                ready,
                crc,
                checksum,
                bytes,
                ..
            } => {
                if *checksum {
                    *crc = shoal_util::crc64::crc64(*crc, &data);
                }
                *bytes += data.len() as u64;
                ready.push(data);
            }
        }
    }

    /// Stream output produced so far (diskless sync).
    pub fn take_ready(&mut self) -> Vec<Vec<u8>> {
        match &mut self.output {
            Output::Stream { ready, .. } => std::mem::take(ready),
            Output::File { .. } => Vec::new(),
        }
    }

    /// The image database whose contents live database `live_db` now holds.
    fn image_of(&self, live_db: usize) -> usize {
        self.live_of.iter().position(|&l| l == live_db).unwrap_or(live_db)
    }

    fn ahead(&self, db: usize, slot: usize) -> bool {
        db > self.db || (db == self.db && slot >= self.slot)
    }

    fn emit(&mut self, db: usize, e: &shoal_store::Entry) {
        if self.stream_db != Some(db) {
            write_select_db(&mut self.buf, db);
            self.stream_db = Some(db);
        }
        write_entry(&mut self.buf, e, self.access, &self.opts);
        self.keys += 1;
        if self.buf.len() >= 1 << 16 {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(1 << 16));
            self.ship(full);
        }
    }

    /// Saves a key's current value before a command changes it, if the walk
    /// has not reached it yet.
    pub fn preserve(&mut self, srv: &Server, live_db: usize, key: &[u8]) {
        if self.walk_finished {
            return;
        }
        let db = self.image_of(live_db);
        let slot = shoal_util::crc16::key_hash_slot(key) as usize;
        if !self.ahead(db, slot) || self.saved_ahead.contains(&(db, key.to_vec())) {
            return;
        }
        if self.detached.get(db).is_some_and(Option::is_some) {
            // Flushed: the live database holds only newer keys, and the old
            // contents wait in `detached` unchanged.
            return;
        }
        self.saved_ahead.insert((db, key.to_vec()));
        if let Some(e) = srv.keyspace.dbs[live_db].slot_iter(slot).find(|e| e.key() == key) {
            self.emit(db, e);
        }
    }

    /// Walks slots for at most `budget`. Returns true when the walk is complete.
    pub fn step(&mut self, srv: &Server, budget: Duration) -> bool {
        let started = Instant::now();
        while !self.walk_finished {
            if self.db >= srv.keyspace.dbs.len() {
                self.walk_finished = true;
                break;
            }
            if self.key_delay.is_some() && Instant::now() < self.paced_until {
                break;
            }
            let db = self.db;
            let slot = self.slot;
            let detached = self.detached.get_mut(db).and_then(Option::take);
            let source = detached.as_ref().unwrap_or(&srv.keyspace.dbs[self.live_of[db]]);
            let entries: Vec<&shoal_store::Entry> = source.slot_iter(slot).collect();
            for e in entries {
                if !self.saved_ahead.contains(&(db, e.key().to_vec())) {
                    self.emit(db, e);
                    if let Some(delay) = self.key_delay {
                        // Catch up after a late tick, but never by more than a second.
                        let now = Instant::now();
                        let floor = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
                        self.paced_until = self.paced_until.max(floor) + delay;
                    }
                }
            }
            self.slot += 1;
            if self.slot >= SLOTS {
                self.slot = 0;
                self.db += 1;
                self.spent.extend(detached);
            } else if let Some(d) = detached {
                self.detached[db] = Some(d);
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        self.walk_finished
    }

    /// Hands the rest to the writer thread once; the result arrives via
    /// `poll_done`.
    fn finish(&mut self) {
        if self.finish_sent {
            return;
        }
        self.finish_sent = true;
        let rest = std::mem::take(&mut self.buf);
        self.ship(rest);
        match &mut self.output {
            Output::File { tx, .. } => {
                let _ = tx.send(Chunk::Finish);
            }
            Output::Stream {
                ready,
                crc,
                checksum,
                bytes,
                finished,
            } => {
                let eof = [shoal_persist::rdb::OP_EOF];
                if *checksum {
                    *crc = shoal_util::crc64::crc64(*crc, &eof);
                }
                let mut tail = eof.to_vec();
                tail.extend_from_slice(&(if *checksum { *crc } else { 0 }).to_le_bytes());
                *bytes += tail.len() as u64;
                ready.push(tail);
                *finished = true;
            }
        }
    }

    /// Completes the walk now (a command is about to change unnamed keys).
    fn complete(&mut self, srv: &Server) {
        self.key_delay = None;
        while !self.step(srv, Duration::from_secs(3600)) {}
        self.finish();
    }

    /// Whether the engine should keep walking without waiting for events.
    pub fn walking(&self) -> bool {
        let paced = self.key_delay.is_some() && Instant::now() < self.paced_until;
        !self.walk_finished && !paced
    }
}

/// Whether a running snapshot wants the event loop not to sleep (it has walking
/// left that is not held back by slow replicas).
pub fn wants_cpu(srv: &Server) -> bool {
    srv.loading.is_some()
        || srv.snapshot.as_ref().is_some_and(|s| {
            s.walking() && !(s.purpose == Purpose::ReplicaStream && crate::replication::stream_backed_up(srv))
        })
}

impl Snapshot {
    pub fn poll_done(&self) -> Option<Result<u64, String>> {
        match &self.output {
            Output::File { done, .. } => done.try_recv().ok(),
            Output::Stream {
                ready, finished, bytes, ..
            } => (*finished && ready.is_empty()).then_some(Ok(*bytes)),
        }
    }
}

fn write_file(
    file: crate::commands::persistence::AutoSync,
    rx: Receiver<Chunk>,
    checksum: bool,
    tmp: &str,
    path: &str,
) -> Result<u64, String> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut crc = 0u64;
    let mut bytes = 0u64;
    let fail = |e: std::io::Error| {
        let _ = std::fs::remove_file(tmp);
        format!("Write error saving DB on disk: {e}")
    };
    loop {
        match rx.recv() {
            Ok(Chunk::Data(d)) => {
                if checksum {
                    crc = shoal_util::crc64::crc64(crc, &d);
                }
                bytes += d.len() as u64;
                w.write_all(&d).map_err(fail)?;
            }
            Ok(Chunk::Finish) => break,
            Err(_) => {
                let _ = std::fs::remove_file(tmp);
                return Err("background save aborted".into());
            }
        }
    }
    let eof = [shoal_persist::rdb::OP_EOF];
    if checksum {
        crc = shoal_util::crc64::crc64(crc, &eof);
    }
    w.write_all(&eof).map_err(fail)?;
    w.write_all(&crc.to_le_bytes()).map_err(fail)?;
    w.flush().map_err(fail)?;
    w.get_ref().sync_all().map_err(fail)?;
    drop(w);
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("Error moving temp DB file {tmp} on the final destination {path}: {e}")
    })?;
    Ok(bytes)
}

/// Event-loop hook: advances a running snapshot and reports its end.
pub fn tick(srv: &mut Server) {
    let Some(mut snap) = srv.snapshot.take() else {
        return;
    };
    // A diskless sync walks only as fast as the replicas take the bytes, so
    // their output buffers stay small.
    let throttled = snap.purpose == Purpose::ReplicaStream && crate::replication::stream_backed_up(srv);
    // Short slices: a command arriving meanwhile waits at most one slice.
    if !snap.walk_finished && !throttled && snap.step(srv, Duration::from_micros(100)) {
        snap.finish();
    }
    if snap.purpose == Purpose::ReplicaStream {
        let chunks = snap.take_ready();
        crate::replication::deliver_snapshot(srv, chunks);
    }
    let walk_finished = snap.walk_finished;
    free_spent(srv, &mut snap, walk_finished);
    let result = match snap.poll_done() {
        None => {
            srv.snapshot = Some(snap);
            return;
        }
        Some(r) => r,
    };
    match snap.purpose {
        Purpose::Bgsave => bgsave_done(srv, &snap, &result),
        Purpose::AofRewrite => crate::aof::rewrite_done(srv, &snap, result),
        Purpose::ReplicaStream => crate::replication::stream_done(srv, result.is_ok()),
    }
}

fn bgsave_done(srv: &mut Server, snap: &Snapshot, result: &Result<u64, String>) {
    match result {
        Ok(_) => {
            notice!(
                "Background saving terminated with success ({} keys, {} ms)",
                snap.keys,
                snap.started.elapsed().as_millis()
            );
            srv.last_save_unix = crate::server::unix_ms() / 1000;
            srv.last_bgsave_ok = true;
            srv.dirty = srv.dirty.saturating_sub(srv.dirty_at_bgsave);
            srv.rdb_saves += 1;
            srv.last_bgsave_secs = snap.started.elapsed().as_secs() as i64;
        }
        Err(e) => {
            warning!("Background saving error: {e}");
            srv.last_bgsave_ok = false;
            srv.last_bgsave_secs = snap.started.elapsed().as_secs() as i64;
        }
    }
    crate::replication::bgsave_done(srv, result.is_ok());
}

/// Before a write command: keep the snapshot's point in time.
pub fn before_write(srv: &mut Server, db: usize, keys: Option<&[&[u8]]>) {
    let Some(mut snap) = srv.snapshot.take() else {
        return;
    };
    match keys {
        Some(keys) => {
            for k in keys {
                snap.preserve(srv, db, k);
            }
        }
        // A command that may touch unnamed keys: finish the walk now.
        None => snap.complete(srv),
    }
    srv.snapshot = Some(snap);
}

/// Disposes of a flushed database's old contents: the running snapshot keeps
/// them if its walk has not got through that database yet (so the flush does
/// not wait for the walk), otherwise the lazyfree thread frees them.
pub fn dispose_flushed(srv: &mut Server, live_db: usize, old: shoal_store::Db) {
    if let Some(snap) = srv.snapshot.as_mut() {
        let db = snap.image_of(live_db);
        let needed = !snap.walk_finished && db >= snap.db;
        if needed {
            if snap.detached.len() <= db {
                snap.detached.resize_with(db + 1, || None);
            }
            if snap.detached[db].is_none() {
                snap.detached[db] = Some(old);
                return;
            }
        }
    }
    srv.lazyfree.free(old);
}

/// SWAPDB while a snapshot runs: the image's databases follow their contents.
pub fn on_swapdb(srv: &mut Server, a: usize, b: usize) {
    if let Some(snap) = srv.snapshot.as_mut() {
        for live in snap.live_of.iter_mut() {
            if *live == a {
                *live = b;
            } else if *live == b {
                *live = a;
            }
        }
    }
}

/// Hands detached databases the snapshot no longer needs to the lazyfree
/// thread (all of them when it is abandoned).
fn free_spent(srv: &mut Server, snap: &mut Snapshot, all: bool) {
    for d in snap.spent.drain(..) {
        srv.lazyfree.free(d);
    }
    if all {
        for d in snap.detached.drain(..).flatten() {
            srv.lazyfree.free(d);
        }
    }
}

/// FLUSHALL while a snapshot runs. Redis kills its RDB child (a BGSAVE or a
/// sync to replicas) and, with save points, then saves the empty data set
/// itself; an AOF rewrite child is left to finish. Likewise here: an RDB
/// snapshot is abandoned (the writer removes its temp file, replicas waiting
/// for it are dropped and resync, the last-bgsave status is untouched); an
/// AOF rewrite goes on over the old contents (see [`dispose_flushed`]).
pub fn before_flushall(srv: &mut Server) {
    let Some(mut snap) = srv.snapshot.take() else {
        return;
    };
    match snap.purpose {
        // FLUSHALL's handler hands each database's old contents to the walk.
        Purpose::AofRewrite => srv.snapshot = Some(snap),
        Purpose::Bgsave => {
            free_spent(srv, &mut snap, true);
            drop(snap);
            notice!("Background saving terminated: FLUSHALL empties the data it was saving");
            crate::replication::bgsave_done(srv, false);
        }
        Purpose::ReplicaStream => {
            free_spent(srv, &mut snap, true);
            drop(snap);
            notice!("Diskless sync to replicas terminated: FLUSHALL empties the data it was sending");
            crate::replication::stream_done(srv, false);
        }
    }
}

/// Starts a background save to `dbfilename`, recording what it covers.
pub fn start_bgsave(srv: &mut Server) -> Result<(), String> {
    let path = srv.config.dbfilename.clone();
    let snap = Snapshot::start(srv, &path, Purpose::Bgsave)?;
    srv.dirty_at_bgsave = srv.dirty;
    srv.last_bgsave_try = crate::server::unix_ms() / 1000;
    srv.snapshot = Some(snap);
    Ok(())
}

/// `save <seconds> <changes>` points: called from the cron.
pub fn check_save_points(srv: &mut Server) {
    if srv.snapshot.is_some() || srv.dirty == 0 {
        return;
    }
    let now = crate::server::unix_ms() / 1000;
    // After a failure, wait before trying again (Redis waits 5 seconds).
    if !srv.last_bgsave_ok && now - srv.last_bgsave_try < 5 {
        return;
    }
    let due = srv
        .config
        .save
        .iter()
        .find(|p| srv.dirty >= p.changes as u64 && now - srv.last_save_unix >= p.seconds);
    if let Some(p) = due {
        notice!("{} changes in {} seconds. Saving...", p.changes, p.seconds);
        match start_bgsave(srv) {
            Ok(()) => notice!("Background saving started"),
            Err(e) => {
                warning!("{e}");
                srv.last_bgsave_ok = false;
                srv.last_bgsave_try = now;
            }
        }
    }
}
