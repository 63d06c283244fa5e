//! The append-only file, compatible with Redis 7.0's multi-part AOF.
//!
//! Layout: the directory `appenddirname` (inside `dir`) holds the manifest
//! `<appendfilename>.manifest`, one BASE file (`<name>.<seq>.base.rdb`, or
//! `.base.aof` without the RDB preamble) and INCR files
//! (`<name>.<seq>.incr.aof`). Formats live in `shoal_persist::aof`.
//!
//! Writing: [`Aof::feed`] appends effects (from `crate::propagate`) to an
//! in-memory buffer. Before the event loop writes replies ([`before_sleep`])
//! the buffer is written to the current INCR file; while it holds data,
//! replies are held back ([`holds_replies`]), so no client sees a reply to a
//! write that is not in the file yet. `appendfsync always` then fsyncs on the
//! engine thread before the replies go out; `everysec` hands the fsync to a
//! background thread once a second; `no` leaves it to the kernel.
//!
//! Rewrite (no fork): at the start a new INCR file is opened and the manifest
//! lists it, so commands from then on go there; the base is a point-in-time
//! snapshot from the same instant (`crate::snapshot`). When it is on disk it
//! is renamed to the next BASE name, the manifest is replaced atomically
//! (temp file, fsync, rename) with the old BASE and INCR files marked as
//! history, and those are deleted.
//!
//! Loading: the BASE (RDB, or a command log) and then each INCR file, commands
//! run through the dispatcher on a fake client with nothing propagated and no
//! key expiring while loading. A torn command at the end of the last INCR
//! file is cut off when `aof-load-truncated` is on; anything else stops the
//! start-up, with Redis's messages.

use crate::client::ClientState;
use crate::commands::Ctx;
use crate::server::{unix_ms, Server};
use crate::snapshot::{Purpose, Snapshot};
use crate::{notice, warning};
use shoal_config::AppendFsync;
use shoal_persist::aof::{AofFile, CommandReader, FileType, LogError, Manifest};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An open INCR file being appended to.
pub struct Aof {
    /// Effects not yet written to the file.
    pub buf: Vec<u8>,
    /// The database the file's stream has selected (None = unknown).
    selected: Option<usize>,
    file: Arc<File>,
    /// The file's name inside the AOF directory.
    name: String,
    /// Bytes in the file.
    len: u64,
    /// Written but not fsynced yet.
    unsynced: bool,
    last_fsync: Instant,
    /// `aof-timestamp-enabled` (refreshed every loop turn), and the second of
    /// the last `#TS:` annotation written.
    timestamps: bool,
    last_ts: i64,
}

impl Aof {
    fn open(file: File, name: String, len: u64) -> Self {
        Aof {
            buf: Vec::new(),
            selected: None,
            file: Arc::new(file),
            name,
            len,
            unsynced: false,
            last_fsync: Instant::now(),
            timestamps: false,
            last_ts: 0,
        }
    }

    /// Appends one effect (`db` None: MULTI/EXEC, which need no SELECT).
    pub fn feed(&mut self, db: Option<usize>, argv: &[Vec<u8>]) {
        if self.timestamps {
            // `#TS:<unix seconds>` before the first effect of each second,
            // as Redis writes it (loaders skip `#` lines).
            let now = unix_ms() / 1000;
            if now > self.last_ts {
                self.last_ts = now;
                self.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        crate::propagate::encode_for_stream(&mut self.buf, &mut self.selected, db, argv);
    }

    /// Writes the buffer to the file. On failure the file is cut back to
    /// what it held before, so a retry does not duplicate a partial write.
    fn write_buffer(&mut self) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            return Ok(0);
        }
        if let Err(e) = (&*self.file).write_all(&self.buf) {
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        let n = self.buf.len();
        self.len += n as u64;
        self.unsynced = true;
        self.buf.clear();
        if self.buf.capacity() > 4 << 20 {
            self.buf = Vec::new();
        }
        Ok(n)
    }
}

/// A rewrite in progress.
struct Rewrite {
    started: Instant,
    /// The snapshot's target, in the AOF directory.
    temp_base: String,
    /// An RDB base (`aof-use-rdb-preamble yes`), or commands.
    rdb: bool,
    /// Commands base: the thread turning the snapshot into commands.
    convert: Option<std::sync::mpsc::Receiver<Result<(), String>>>,
}

/// The fsync thread (`everysec`, and old INCR files after a rewrite switch).
struct FsyncThread {
    tx: Sender<Arc<File>>,
    pending: Arc<AtomicUsize>,
    failed: Arc<AtomicBool>,
}

impl FsyncThread {
    fn spawn() -> Option<FsyncThread> {
        let (tx, rx) = channel::<Arc<File>>();
        let pending = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let (p, f) = (pending.clone(), failed.clone());
        std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                for file in rx {
                    let ok = file.sync_data().is_ok();
                    f.store(!ok, Ordering::Relaxed);
                    drop(file);
                    p.fetch_sub(1, Ordering::Release);
                }
            })
            .ok()?;
        Some(FsyncThread { tx, pending, failed })
    }

    fn submit(&self, file: Arc<File>) {
        self.pending.fetch_add(1, Ordering::Acquire);
        if self.tx.send(file).is_err() {
            self.pending.fetch_sub(1, Ordering::Release);
        }
    }

    fn busy(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }
}

/// AOF state that outlives `appendonly` being on: the manifest, rewrite
/// bookkeeping and the INFO figures.
pub struct AofState {
    manifest: Manifest,
    /// `appendonly` was turned on at run time and the first base is not
    /// written yet: the INCR file is a temp file until the rewrite ends.
    waiting_rewrite: bool,
    rewrite: Option<Rewrite>,
    pub rewrite_scheduled: bool,
    /// A BGSAVE SCHEDULE waiting for a rewrite to end.
    pub bgsave_scheduled: bool,
    pub rewrites: u64,
    pub last_rewrite_secs: i64,
    pub last_rewrite_ok: bool,
    pub consecutive_failures: u64,
    last_failure: Option<Instant>,
    pub last_write_ok: bool,
    /// The error of the last failed write (strerror text).
    last_write_error: String,
    /// Size of the BASE file and of INCR files other than the open one.
    base_file_size: u64,
    other_incr_size: u64,
    /// `aof_current_size` after the last rewrite or load (auto-rewrite base).
    rewrite_base_size: u64,
    delayed_fsync: u64,
    fsync: Option<FsyncThread>,
}

impl Default for AofState {
    fn default() -> Self {
        AofState {
            manifest: Manifest::default(),
            waiting_rewrite: false,
            rewrite: None,
            rewrite_scheduled: false,
            bgsave_scheduled: false,
            rewrites: 0,
            last_rewrite_secs: -1,
            last_rewrite_ok: true,
            consecutive_failures: 0,
            last_failure: None,
            last_write_ok: true,
            last_write_error: String::new(),
            base_file_size: 0,
            other_incr_size: 0,
            rewrite_base_size: 0,
            delayed_fsync: 0,
            fsync: None,
        }
    }
}

impl AofState {
    fn fsync_thread(&mut self) -> Option<&FsyncThread> {
        if self.fsync.is_none() {
            self.fsync = FsyncThread::spawn();
        }
        self.fsync.as_ref()
    }

    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrite.is_some()
    }
}

fn dir_name(srv: &Server) -> String {
    srv.config.appenddirname.clone()
}

fn path_in_dir(srv: &Server, name: &str) -> String {
    format!("{}/{}", srv.config.appenddirname, name)
}

fn manifest_name(srv: &Server) -> String {
    format!("{}.manifest", srv.config.appendfilename)
}

fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", srv.config.appendfilename)
}

fn file_size(path: &str) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn sync_dir(dir: &str) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn ensure_dir(srv: &Server) -> Result<(), String> {
    let dir = dir_name(srv);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if std::path::Path::new(&dir).is_dir() {
                Ok(())
            } else {
                Err(format!("Can't open or create append-only dir {dir}: Not a directory"))
            }
        }
        Err(e) => Err(format!("Can't open or create append-only dir {dir}: {e}")),
    }
}

/// Writes `m` as the manifest: temp file, fsync, rename, directory fsync.
fn persist_manifest(srv: &Server, m: &Manifest) -> Result<(), String> {
    let dir = dir_name(srv);
    let name = manifest_name(srv);
    let tmp = format!("{dir}/temp-{name}");
    let path = format!("{dir}/{name}");
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(m.to_text().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Can't persist the AOF manifest file {name}: {e}")
    })?;
    sync_dir(&dir);
    Ok(())
}

fn open_append(path: &str) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

// ---------------------------------------------------------------------------
// Writing

/// Whether replies must wait: effects not yet written to the AOF. (Not
/// while writing fails: writes are refused then, reads still answered.)
#[inline]
pub fn holds_replies(srv: &Server) -> bool {
    srv.aof.as_ref().is_some_and(|a| !a.buf.is_empty()) && srv.aof_state.last_write_ok
}

/// An I/O error as C's strerror says it ("No space left on device").
fn io_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Event-loop hook, right before replies are written: writes the buffer and
/// fsyncs as `appendfsync` says.
pub fn before_sleep(srv: &mut Server) {
    let Server {
        aof, aof_state, config, ..
    } = srv;
    let Some(aof) = aof.as_mut() else {
        return;
    };
    aof.timestamps = config.aof_timestamp_enabled;
    match aof.write_buffer() {
        Ok(_) => {
            if !aof_state.last_write_ok {
                warning!("AOF write error looks solved, Redis can write again.");
            }
            aof_state.last_write_ok = true;
        }
        Err(e) => {
            let text = io_error_text(&e);
            if aof_state.last_write_ok {
                warning!("Error writing to the AOF file: {text}");
            }
            aof_state.last_write_ok = false;
            aof_state.last_write_error = text;
            if config.appendfsync == AppendFsync::Always {
                warning!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                std::process::exit(1);
            }
            return;
        }
    }
    if !aof.unsynced || (config.no_appendfsync_on_rewrite && aof_state.rewrite.is_some()) {
        return;
    }
    match config.appendfsync {
        AppendFsync::Always => {
            if let Err(e) = aof.file.sync_data() {
                warning!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
                std::process::exit(1);
            }
            aof.unsynced = false;
            aof.last_fsync = Instant::now();
        }
        AppendFsync::Everysec => {
            if aof.last_fsync.elapsed() < Duration::from_secs(1) {
                return;
            }
            let Some(busy) = aof_state.fsync_thread().map(|t| t.busy()) else {
                let _ = aof.file.sync_data();
                aof.unsynced = false;
                aof.last_fsync = Instant::now();
                return;
            };
            if busy {
                // The previous fsync is still running: try again next turn,
                // but never postpone for more than two seconds (as Redis).
                if aof.last_fsync.elapsed() < Duration::from_secs(2) {
                    return;
                }
                aof_state.delayed_fsync += 1;
                notice!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
            }
            if let Some(t) = aof_state.fsync.as_ref() {
                t.submit(aof.file.clone());
            }
            aof.unsynced = false;
            aof.last_fsync = Instant::now();
        }
        AppendFsync::No => {}
    }
}

/// SHUTDOWN while the first base of an AOF turned on at run time is being
/// written would lose the data set on restart: refused unless FORCE (Redis).
pub fn may_shut_down(srv: &Server, force: bool) -> bool {
    if !(srv.aof_state.waiting_rewrite && srv.aof_state.rewrite.is_some()) {
        return true;
    }
    if force {
        warning!("Writing initial AOF. Exit anyway.");
        true
    } else {
        warning!("Writing initial AOF, can't exit.");
        false
    }
}

/// At exit: write what is buffered and fsync; abandon a rewrite.
pub fn shutdown(srv: &mut Server) {
    if srv.aof_state.rewrite.is_some() {
        warning!("There is a child rewriting the AOF. Killing it!");
        abort_rewrite(srv);
    }
    if let Some(aof) = srv.aof.as_mut() {
        let _ = aof.write_buffer();
        notice!("Calling fsync() on the AOF file.");
        let _ = aof.file.sync_data();
    }
}

// ---------------------------------------------------------------------------
// Start-up

/// Loads the dataset at start-up: from the AOF when `appendonly` is on (then
/// opens it for appending), otherwise from the RDB file. False after logging
/// why start-up must stop.
pub fn load_at_startup(srv: &mut Server) -> bool {
    if !srv.config.appendonly {
        // Like Redis, the manifest is read anyway: a later BGREWRITEAOF or
        // CONFIG SET appendonly yes continues its sequence numbers.
        match read_manifest(srv) {
            Ok(m) => srv.aof_state.manifest = m,
            Err(e) => warning!("{e}"),
        }
        return crate::commands::persistence::load_at_startup(srv);
    }
    let start = Instant::now();
    let mut manifest = match read_manifest(srv) {
        Ok(m) => m,
        Err(e) => {
            warning!("{e}");
            return false;
        }
    };
    if let Err(e) = upgrade_legacy(srv, &mut manifest) {
        warning!("{e}");
        return false;
    }
    if !manifest.is_empty() {
        if !load_unlimited(srv, &manifest) {
            return false;
        }
        srv.stats.reset();
        srv.dirty = 0;
        notice!(
            "DB loaded from append only file: {:.3} seconds",
            start.elapsed().as_secs_f64()
        );
    }
    srv.aof_state.manifest = manifest;
    if let Err(e) = open_on_startup(srv) {
        warning!("{e}");
        return false;
    }
    true
}

/// Loads the manifest's files with maxmemory lifted (a load never evicts,
/// as in Redis), then refreshes the engine's clock.
fn load_unlimited(srv: &mut Server, manifest: &Manifest) -> bool {
    let saved_maxmemory = srv.config.maxmemory;
    srv.config.maxmemory = 0;
    let ok = load_files(srv, manifest);
    srv.config.maxmemory = saved_maxmemory;
    srv.now_ms = unix_ms();
    ok
}

/// DEBUG LOADAOF: writes and fsyncs what is buffered, empties every
/// database and loads the data back from the AOF files the manifest lists
/// (whether or not `appendonly` is on, as Redis). Like Redis, a failed or
/// impossible load (no AOF at all) stops the process. Nothing is propagated
/// and the dirty counter restarts at 0.
pub fn debug_loadaof(srv: &mut Server) {
    if let Some(aof) = srv.aof.as_mut() {
        let _ = aof.write_buffer();
        let _ = aof.file.sync_data();
        aof.unsynced = false;
        aof.last_fsync = Instant::now();
    }
    let old = srv.keyspace.take_all();
    srv.lazyfree.free(old);
    delete_history(srv);
    let manifest = srv.aof_state.manifest.clone();
    if manifest.is_empty() {
        warning!("DEBUG LOADAOF: the AOF manifest lists no file to load. Exiting.");
        std::process::exit(1);
    }
    if !load_unlimited(srv, &manifest) {
        std::process::exit(1);
    }
    srv.dirty = 0;
    notice!("Append Only File loaded by DEBUG LOADAOF");
}

fn read_manifest(srv: &Server) -> Result<Manifest, String> {
    let path = path_in_dir(srv, &manifest_name(srv));
    match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(format!(
            "Fatal error: can't open the AOF manifest {} for reading: {e}",
            manifest_name(srv)
        )),
    }
}

/// Redis 7 moves a pre-7.0 single-file `appendonly.aof` in `dir` into the
/// AOF directory as the base.
fn upgrade_legacy(srv: &Server, manifest: &mut Manifest) -> Result<(), String> {
    let name = srv.config.appendfilename.clone();
    if !std::path::Path::new(&name).is_file() {
        return Ok(());
    }
    let only_old_base = manifest.incrs.is_empty()
        && manifest.base.as_ref().is_some_and(|b| b.name == name)
        && !std::path::Path::new(&path_in_dir(srv, &name)).exists();
    if !manifest.is_empty() && !only_old_base {
        return Ok(());
    }
    ensure_dir(srv)?;
    let mut m = Manifest {
        base: Some(AofFile {
            name: name.clone(),
            seq: 1,
            kind: FileType::Base,
        }),
        base_seq: 1,
        ..Default::default()
    };
    m.history.clear();
    persist_manifest(srv, &m)?;
    std::fs::rename(&name, path_in_dir(srv, &name))
        .map_err(|e| format!("Error moving the old AOF file {name} into the AOF directory: {e}"))?;
    sync_dir(&dir_name(srv));
    notice!(
        "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({}).",
        dir_name(srv)
    );
    *manifest = m;
    Ok(())
}

/// Loads the base and the INCR files in order.
fn load_files(srv: &mut Server, manifest: &Manifest) -> bool {
    let mut files: Vec<&AofFile> = Vec::new();
    files.extend(manifest.base.iter());
    files.extend(manifest.incrs.iter());
    let count = files.len();
    for (i, f) in files.into_iter().enumerate() {
        let started = Instant::now();
        let last = i + 1 == count;
        let kind = if f.kind == FileType::Base { "base" } else { "incr" };
        match load_one(srv, &f.name, f.kind == FileType::Base, last) {
            Loaded::Ok => notice!(
                "DB loaded from {kind} file {}: {:.3} seconds",
                f.name,
                started.elapsed().as_secs_f64()
            ),
            Loaded::Empty => {}
            Loaded::Failed => return false,
        }
    }
    true
}

enum Loaded {
    Ok,
    Empty,
    Failed,
}

/// Loads one file of the AOF directory.
fn load_one(srv: &mut Server, name: &str, base: bool, last: bool) -> Loaded {
    let path = path_in_dir(srv, name);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warning!("Unable to obtain the AOF file {name} length. stat: No such file or directory");
            return Loaded::Failed;
        }
        Err(e) => {
            warning!("Fatal error: can't open the append log file {name} for reading: {e}");
            return Loaded::Failed;
        }
    };
    if data.is_empty() {
        return Loaded::Empty;
    }
    let mut start = 0usize;
    if data.starts_with(b"REDIS") {
        if base {
            notice!("Reading RDB base file on AOF loading...");
        } else {
            notice!("Reading RDB preamble from AOF file...");
        }
        match crate::commands::persistence::load_rdb_bytes(srv, &data, true, false) {
            Ok(info) => start = info.consumed,
            Err(e) => {
                warning!("{e}");
                warning!("Error reading the RDB base file {name}, AOF loading aborted");
                return Loaded::Failed;
            }
        }
    }
    replay(srv, name, &path, &data, start, last)
}

/// Runs the commands of a command log from `start`.
fn replay(srv: &mut Server, name: &str, path: &str, data: &[u8], start: usize, last: bool) -> Loaded {
    let any: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    let mut fake = ClientState::new(u64::MAX, any, any, 0);
    fake.authenticated = true;
    // Obeyed like a master's stream: no ACL, read-only replica or LIMIT checks.
    fake.master = true;
    let mut reader = CommandReader::new(data, start);
    // The clock commands see while loading: the time modulo 2^16 minutes, a
    // moment in early 1970, so that no key expires, yet the minutes LFU
    // counters keep (16 bits of them) are the real ones and keys start
    // with Redis's LFU_INIT_VAL of 5, not a counter decayed by decades.
    let loading_clock = unix_ms().rem_euclid(65_536 * 60_000);
    // Where a transaction being read began: an incomplete one is dropped.
    let mut before_multi = start;
    let truncated_at = loop {
        let at = reader.offset();
        match reader.next_command() {
            Ok(Some(argv)) => {
                if srv.commands.get(&argv[0]).is_none() {
                    warning!(
                        "Unknown command '{}' reading the append only file {name}",
                        String::from_utf8_lossy(&argv[0])
                    );
                    return Loaded::Failed;
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    before_multi = at;
                }
                let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                // Nothing expires while loading: a later command may still
                // touch a key whose time has passed since (Redis does the same).
                srv.now_ms = loading_clock;
                crate::dispatch::execute(srv, &mut fake, &args);
                fake.out.buf.clear();
                fake.block_request = None;
            }
            Ok(None) => {
                if fake.multi.is_none() {
                    return Loaded::Ok;
                }
                warning!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                break before_multi;
            }
            Err(LogError::Truncated) => {
                if fake.multi.is_some() {
                    warning!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    break before_multi;
                }
                break reader.offset();
            }
            Err(LogError::Format(offset)) => {
                warning!(
                    "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                );
                warning!("(the command at offset {offset} of {name} is not valid RESP)");
                return Loaded::Failed;
            }
        }
    };
    if !srv.config.aof_load_truncated {
        warning!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        );
        return Loaded::Failed;
    }
    warning!("!!! Warning: short read while loading the AOF file {name}!!!");
    if !last {
        warning!("Fatal error: the truncated file is not the last file");
        return Loaded::Failed;
    }
    warning!("!!! Truncating the AOF {name} at offset {truncated_at} !!!");
    let cut = OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(truncated_at as u64).and_then(|_| f.sync_all()));
    if let Err(e) = cut {
        warning!("Error truncating the AOF file {name}: {e}");
        return Loaded::Failed;
    }
    warning!("AOF {name} loaded anyway because aof-load-truncated is enabled");
    Loaded::Ok
}

/// After loading: makes sure there is a base (creating one from the data
/// set, empty on a fresh start) and an INCR file to append to, and deletes
/// leftover history files.
fn open_on_startup(srv: &mut Server) -> Result<(), String> {
    ensure_dir(srv)?;
    let appendfilename = srv.config.appendfilename.clone();
    let mut m = srv.aof_state.manifest.clone();
    let mut changed = false;
    if m.is_empty() {
        let rdb = srv.config.aof_use_rdb_preamble;
        let (name, seq) = m.next_base_name(&appendfilename, rdb);
        write_base_now(srv, &path_in_dir(srv, &name), rdb)?;
        notice!("Creating AOF base file {name} on server start");
        m.base = Some(AofFile {
            name,
            seq,
            kind: FileType::Base,
        });
        changed = true;
    }
    let incr = match m.incrs.last() {
        Some(f) => {
            notice!("Opening AOF incr file {} on server start", f.name);
            f.name.clone()
        }
        None => {
            let (name, seq) = m.next_incr_name(&appendfilename);
            notice!("Creating AOF incr file {name} on server start");
            m.incrs.push(AofFile {
                name: name.clone(),
                seq,
                kind: FileType::Incr,
            });
            changed = true;
            name
        }
    };
    let path = path_in_dir(srv, &incr);
    let file = open_append(&path).map_err(|e| format!("Can't open the append-only file {incr}: {e}"))?;
    let len = file.metadata().map(|md| md.len()).unwrap_or(0);
    if changed {
        persist_manifest(srv, &m)?;
    }
    srv.aof_state.manifest = m;
    delete_history(srv);
    let st = &mut srv.aof_state;
    st.base_file_size = st
        .manifest
        .base
        .as_ref()
        .map_or(0, |b| file_size(&format!("{}/{}", srv.config.appenddirname, b.name)));
    st.other_incr_size = st.manifest.incrs[..st.manifest.incrs.len() - 1]
        .iter()
        .map(|f| file_size(&format!("{}/{}", srv.config.appenddirname, f.name)))
        .sum();
    st.rewrite_base_size = st.base_file_size + st.other_incr_size + len;
    srv.aof = Some(Aof::open(file, incr, len));
    Ok(())
}

/// Writes the current data set as a base file right now (start-up, when the
/// data set is empty).
fn write_base_now(srv: &Server, path: &str, rdb: bool) -> Result<(), String> {
    let tmp = format!("{path}.tmp");
    let write = || -> std::io::Result<()> {
        let file = File::create(&tmp)?;
        let file = crate::commands::persistence::AutoSync::new(file, srv.config.aof_rewrite_incremental_fsync);
        let mut w = std::io::BufWriter::new(file);
        if rdb {
            let aux = rdb_aux(srv);
            let meta = shoal_persist::rdb::SaveMeta {
                aux: &aux,
                checksum: srv.config.rdbchecksum,
                access: shoal_persist::rdb::Access::None,
            };
            let opts = crate::commands::persistence::options(srv);
            shoal_persist::rdb::write_rdb(&mut w, &srv.keyspace.dbs, &meta, &opts)?;
        } else {
            for (db, d) in srv.keyspace.dbs.iter().enumerate() {
                let mut out = Vec::new();
                for e in d.iter() {
                    if out.is_empty() {
                        crate::propagate::encode_command(&mut out, &[b"SELECT".to_vec(), db.to_string().into_bytes()]);
                    }
                    rewrite_key(&mut out, e.key(), &e.value, e.has_expire().then(|| e.expire_at()));
                }
                w.write_all(&out)?;
            }
        }
        w.flush()?;
        w.get_ref().sync_all()?;
        drop(w);
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Can't create the AOF base file {path}: {e}")
    })
}

fn rdb_aux(srv: &Server) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("redis-ver", crate::server::VERSION.as_bytes().to_vec()),
        ("redis-bits", b"64".to_vec()),
        ("ctime", (unix_ms() / 1000).to_string().into_bytes()),
        ("used-mem", srv.memory.used().to_string().into_bytes()),
        ("aof-base", b"1".to_vec()),
    ]
}

/// Deletes the files the manifest lists as history (unless
/// `aof-disable-auto-gc`), then drops them from the manifest.
fn delete_history(srv: &mut Server) {
    if srv.aof_state.manifest.history.is_empty() || srv.config.aof_disable_auto_gc {
        return;
    }
    for f in std::mem::take(&mut srv.aof_state.manifest.history) {
        notice!("Removing the history file {} in the background", f.name);
        let _ = std::fs::remove_file(path_in_dir(srv, &f.name));
    }
    if let Err(e) = persist_manifest(srv, &srv.aof_state.manifest) {
        warning!("{e}");
    }
}

// ---------------------------------------------------------------------------
// Rewrite

/// Starts a rewrite now. The caller made sure no snapshot is running.
pub fn start_rewrite(srv: &mut Server) -> Result<(), String> {
    if srv.aof_state.rewrite.is_some() {
        return Err("Background append only file rewriting already in progress".into());
    }
    if srv.snapshot.is_some() {
        return Err("Can't rewrite append only file in background: fork: a background save is running".into());
    }
    ensure_dir(srv)?;
    srv.aof_state.rewrite_scheduled = false;
    let waiting = srv.aof_state.waiting_rewrite;
    if waiting {
        // appendonly turned on at run time: commands from now on go to a
        // temp INCR file that becomes the first INCR when the base is done.
        let name = temp_incr_name(srv);
        let path = path_in_dir(srv, &name);
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
        notice!("Creating AOF incr file {name} on background rewrite");
        srv.aof = Some(Aof::open(file, name, 0));
    } else if srv.aof.is_some() {
        switch_incr(srv)?;
    }
    let temp_base = path_in_dir(srv, &format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let snap = match Snapshot::start(srv, &temp_base, Purpose::AofRewrite) {
        Ok(s) => s,
        Err(e) => {
            if waiting {
                srv.aof = None;
                let _ = std::fs::remove_file(path_in_dir(srv, &temp_incr_name(srv)));
            }
            return Err(e);
        }
    };
    srv.snapshot = Some(snap);
    srv.aof_state.rewrite = Some(Rewrite {
        started: Instant::now(),
        temp_base,
        rdb: srv.config.aof_use_rdb_preamble,
        convert: None,
    });
    srv.aof_state.rewrites += 1;
    notice!("Background append only file rewriting started");
    Ok(())
}

/// Opens the next INCR file, lists it in the manifest and feeds it from
/// now on; the previous one is written out and fsynced in the background.
fn switch_incr(srv: &mut Server) -> Result<(), String> {
    let appendfilename = srv.config.appendfilename.clone();
    let mut m = srv.aof_state.manifest.clone();
    let (name, seq) = m.next_incr_name(&appendfilename);
    let path = path_in_dir(srv, &name);
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
    m.incrs.push(AofFile {
        name: name.clone(),
        seq,
        kind: FileType::Incr,
    });
    // The old file's tail goes out before the manifest names the new one.
    if let Some(aof) = srv.aof.as_mut() {
        if let Err(e) = aof.write_buffer() {
            let _ = std::fs::remove_file(&path);
            return Err(format!("Error writing to the AOF file: {e}"));
        }
    }
    if let Err(e) = persist_manifest(srv, &m) {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    srv.aof_state.manifest = m;
    notice!("Creating AOF incr file {name} on background rewrite");
    let old = srv.aof.replace(Aof::open(file, name, 0)).expect("AOF is on");
    srv.aof_state.other_incr_size += old.len;
    // With `always`, replies of this turn go out once the new file's (empty)
    // buffer is flushed: the old file's tail must be on disk before that.
    let always = srv.config.appendfsync == AppendFsync::Always;
    match srv.aof_state.fsync_thread() {
        Some(t) if !always => t.submit(old.file),
        _ => {
            let _ = old.file.sync_data();
        }
    }
    Ok(())
}

/// The rewrite's base snapshot ended (called by `crate::snapshot`).
pub fn rewrite_done(srv: &mut Server, _snap: &Snapshot, result: Result<u64, String>) {
    // Replicas that asked for a full sync meanwhile can have their snapshot now.
    crate::replication::start_snapshot_for_waiting(srv, None);
    let Some(mut rw) = srv.aof_state.rewrite.take() else {
        return;
    };
    if result.is_ok() && !rw.rdb {
        // A commands base: the RDB image is turned into commands off the
        // engine thread; the cron picks the result up.
        let (tx, rx) = channel();
        let opts = crate::commands::persistence::options(srv);
        let path = rw.temp_base.clone();
        let incremental_fsync = srv.config.aof_rewrite_incremental_fsync;
        let spawned = std::thread::Builder::new().name("aof-rewrite".into()).spawn(move || {
            let _ = tx.send(convert_file(&path, &opts, incremental_fsync));
        });
        match spawned {
            Ok(_) => {
                rw.convert = Some(rx);
                srv.aof_state.rewrite = Some(rw);
            }
            Err(e) => finish_rewrite(srv, rw, Err(format!("Can't start the AOF rewrite thread: {e}"))),
        }
        return;
    }
    finish_rewrite(srv, rw, result.map(|_| ()));
}

/// Rewrites the snapshot at `path` (RDB) as commands, in place.
fn convert_file(path: &str, opts: &shoal_persist::Options, incremental_fsync: bool) -> Result<(), String> {
    let rdb = std::fs::read(path).map_err(|e| format!("Can't read the temporary AOF base file: {e}"))?;
    let tmp = format!("{path}.cmds");
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| e.to_string())?;
        let file = crate::commands::persistence::AutoSync::new(file, incremental_fsync);
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        rdb_to_commands(&rdb, opts, &mut w)?;
        w.flush().map_err(|e| e.to_string())?;
        w.get_ref().sync_all().map_err(|e| e.to_string())?;
        drop(w);
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| format!("Error writing the AOF base as commands: {e}"))
}

/// Ends a rewrite: installs the new base, or records the failure.
fn finish_rewrite(srv: &mut Server, rw: Rewrite, result: Result<(), String>) {
    srv.aof_state.last_rewrite_secs = rw.started.elapsed().as_secs() as i64;
    let outcome = result.and_then(|_| {
        notice!("Background AOF rewrite terminated with success");
        install_rewrite(srv, &rw)
    });
    match outcome {
        Ok(()) => {
            srv.aof_state.last_rewrite_ok = true;
            srv.aof_state.consecutive_failures = 0;
            notice!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            warning!("Background AOF rewrite terminated with error: {e}");
            let _ = std::fs::remove_file(&rw.temp_base);
            srv.aof_state.last_rewrite_ok = false;
            srv.aof_state.consecutive_failures += 1;
            srv.aof_state.last_failure = Some(Instant::now());
            if srv.aof_state.waiting_rewrite {
                // Try again from the cron; nothing is fed meanwhile.
                srv.aof = None;
                let _ = std::fs::remove_file(path_in_dir(srv, &temp_incr_name(srv)));
                srv.aof_state.rewrite_scheduled = true;
            }
        }
    }
}

/// Renames the new base into place and replaces the manifest.
fn install_rewrite(srv: &mut Server, rw: &Rewrite) -> Result<(), String> {
    let appendfilename = srv.config.appendfilename.clone();
    let mut m = srv.aof_state.manifest.clone();
    let (base_name, base_seq) = m.next_base_name(&appendfilename, rw.rdb);
    let base_path = path_in_dir(srv, &base_name);
    std::fs::rename(&rw.temp_base, &base_path).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF base file {} into {base_name}: {e}",
            rw.temp_base
        )
    })?;
    notice!(
        "Successfully renamed the temporary AOF base file {} into {base_name}",
        rw.temp_base.rsplit('/').next().unwrap_or_default()
    );
    let base = AofFile {
        name: base_name,
        seq: base_seq,
        kind: FileType::Base,
    };
    let mut new_incr = None;
    if srv.aof_state.waiting_rewrite {
        let (incr_name, seq) = m.next_incr_name(&appendfilename);
        let from = path_in_dir(srv, &temp_incr_name(srv));
        if let Err(e) = std::fs::rename(&from, path_in_dir(srv, &incr_name)) {
            let _ = std::fs::remove_file(&base_path);
            return Err(format!(
                "Error trying to rename the temporary AOF incr file into {incr_name}: {e}"
            ));
        }
        notice!(
            "Successfully renamed the temporary AOF incr file {} into {incr_name}",
            temp_incr_name(srv)
        );
        m.install_base(base, 0);
        m.incrs.push(AofFile {
            name: incr_name.clone(),
            seq,
            kind: FileType::Incr,
        });
        new_incr = Some(incr_name);
    } else {
        let keep = usize::from(srv.aof.is_some());
        m.install_base(base, keep);
    }
    if let Err(e) = persist_manifest(srv, &m) {
        let _ = std::fs::remove_file(&base_path);
        return Err(e);
    }
    if let (Some(name), Some(aof)) = (new_incr, srv.aof.as_mut()) {
        aof.name = name;
        srv.aof_state.waiting_rewrite = false;
    }
    srv.aof_state.manifest = m;
    srv.aof_state.base_file_size = file_size(&base_path);
    srv.aof_state.other_incr_size = 0;
    srv.aof_state.rewrite_base_size = current_size(srv);
    delete_history(srv);
    Ok(())
}

/// Abandons a running rewrite (appendonly turned off, shutdown).
fn abort_rewrite(srv: &mut Server) {
    let Some(rw) = srv.aof_state.rewrite.take() else {
        return;
    };
    if srv.snapshot.as_ref().is_some_and(|s| s.purpose == Purpose::AofRewrite) {
        // Dropping the snapshot stops its writer thread, which removes its temp.
        srv.snapshot = None;
    }
    let _ = std::fs::remove_file(&rw.temp_base);
}

fn current_size(srv: &Server) -> u64 {
    let st = &srv.aof_state;
    st.base_file_size + st.other_incr_size + srv.aof.as_ref().map_or(0, |a| a.len + a.buf.len() as u64)
}

/// Cron: scheduled rewrites and BGSAVEs, and the automatic rewrite.
pub fn cron(srv: &mut Server) {
    let converted = srv
        .aof_state
        .rewrite
        .as_ref()
        .and_then(|r| r.convert.as_ref())
        .and_then(|rx| rx.try_recv().ok());
    if let Some(result) = converted {
        if let Some(rw) = srv.aof_state.rewrite.take() {
            finish_rewrite(srv, rw, result);
        }
    }
    if srv.snapshot.is_some() {
        return;
    }
    if srv.aof_state.rewrite_scheduled && srv.aof_state.rewrite.is_none() {
        let retry_ok = srv
            .aof_state
            .last_failure
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(5) || !srv.aof_state.waiting_rewrite);
        if retry_ok {
            if let Err(e) = start_rewrite(srv) {
                warning!("Can't start the scheduled AOF rewrite: {e}");
                srv.aof_state.last_failure = Some(Instant::now());
                srv.aof_state.rewrite_scheduled = srv.aof_state.waiting_rewrite;
            }
            return;
        }
    }
    if srv.aof_state.bgsave_scheduled {
        srv.aof_state.bgsave_scheduled = false;
        match crate::snapshot::start_bgsave(srv) {
            Ok(()) => notice!("Background saving started"),
            Err(e) => warning!("{e}"),
        }
        return;
    }
    let perc = srv.config.auto_aof_rewrite_percentage as u64;
    if srv.aof.is_none() || srv.aof_state.waiting_rewrite || srv.aof_state.rewrite.is_some() || perc == 0 {
        return;
    }
    // After a failure, wait a little before trying again.
    if srv
        .aof_state
        .last_failure
        .is_some_and(|t| !srv.aof_state.last_rewrite_ok && t.elapsed() < Duration::from_secs(60))
    {
        return;
    }
    let size = current_size(srv);
    if size <= srv.config.auto_aof_rewrite_min_size {
        return;
    }
    let base = srv.aof_state.rewrite_base_size.max(1);
    let growth = (size * 100 / base) as i64 - 100;
    if growth >= perc as i64 {
        notice!("Starting automatic rewriting of AOF on {growth}% growth");
        if let Err(e) = start_rewrite(srv) {
            warning!("{e}");
            srv.aof_state.last_rewrite_ok = false;
            srv.aof_state.last_failure = Some(Instant::now());
        }
    }
}

// ---------------------------------------------------------------------------
// Commands and configuration

/// BGREWRITEAOF
pub fn bgrewriteaof(ctx: &mut Ctx, _args: &[&[u8]]) {
    if ctx.srv.aof_state.rewrite.is_some() {
        ctx.out()
            .error("ERR Background append only file rewriting already in progress");
    } else if ctx.srv.snapshot.is_some() || ctx.client.in_exec {
        ctx.srv.aof_state.rewrite_scheduled = true;
        ctx.out().simple("Background append only file rewriting scheduled");
    } else {
        match start_rewrite(ctx.srv) {
            Ok(()) => ctx.out().simple("Background append only file rewriting started"),
            Err(e) => {
                warning!("{e}");
                ctx.out().error(
                    "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
                );
            }
        }
    }
}

/// Whether BGSAVE must wait for a rewrite (it schedules itself).
pub fn rewrite_blocks_bgsave(srv: &Server) -> bool {
    srv.aof_state.rewrite.is_some()
}

/// CONFIG SET appendonly: turns the AOF on (a rewrite writes the first
/// base, as in Redis) or off.
pub fn config_changed(srv: &mut Server, in_exec: bool) -> Result<(), String> {
    let on = srv.aof.is_some() || srv.aof_state.waiting_rewrite;
    if srv.config.appendonly == on {
        return Ok(());
    }
    if srv.config.appendonly {
        srv.aof_state.waiting_rewrite = true;
        if srv.snapshot.is_some() {
            srv.aof_state.rewrite_scheduled = true;
            notice!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        } else if in_exec {
            srv.aof_state.rewrite_scheduled = true;
            notice!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
        } else if let Err(e) = start_rewrite(srv) {
            warning!("{e}");
            warning!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            srv.aof_state.waiting_rewrite = false;
            return Err(
                "ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs."
                    .into(),
            );
        }
        return Ok(());
    }
    // Off: flush and fsync what was written, forget the file.
    if srv.aof_state.rewrite.is_some() {
        notice!("Killing running AOF rewrite child");
        abort_rewrite(srv);
    }
    if let Some(mut aof) = srv.aof.take() {
        let _ = aof.write_buffer();
        let _ = aof.file.sync_data();
    }
    if srv.aof_state.waiting_rewrite {
        let _ = std::fs::remove_file(path_in_dir(srv, &temp_incr_name(srv)));
        srv.aof_state.waiting_rewrite = false;
    }
    srv.aof_state.rewrite_scheduled = false;
    Ok(())
}

/// The whole data set was replaced (a replica loaded its master's snapshot):
/// the AOF no longer describes it, so it starts over with a new base, as
/// Redis does (stop and start the AOF after a full sync).
pub fn dataset_replaced(srv: &mut Server) {
    if srv.aof.is_none() && !srv.aof_state.waiting_rewrite {
        return;
    }
    notice!("Stopping and restarting the AOF: the data set was replaced");
    srv.config.appendonly = false;
    let _ = config_changed(srv, false);
    srv.config.appendonly = true;
    if config_changed(srv, false).is_err() {
        warning!("Failed enabling the AOF after successful master synchronization! Trying it again in one second.");
        srv.aof_state.waiting_rewrite = true;
        srv.aof_state.rewrite_scheduled = true;
    }
}

/// INFO fields: name and value.
pub type InfoFields = Vec<(&'static str, String)>;

/// The `aof_*` fields of INFO persistence, in Redis's order: the ones
/// always shown (before `module_fork_*`) and those shown while the AOF is on
/// (after them).
pub fn info_fields(srv: &Server) -> (InfoFields, InfoFields) {
    let st = &srv.aof_state;
    let on = srv.aof.is_some() || st.waiting_rewrite;
    let v = vec![
        ("aof_enabled", u8::from(on).to_string()),
        ("aof_rewrite_in_progress", u8::from(st.rewrite.is_some()).to_string()),
        ("aof_rewrite_scheduled", u8::from(st.rewrite_scheduled).to_string()),
        ("aof_last_rewrite_time_sec", st.last_rewrite_secs.to_string()),
        (
            "aof_current_rewrite_time_sec",
            st.rewrite
                .as_ref()
                .map_or(-1, |r| r.started.elapsed().as_secs() as i64)
                .to_string(),
        ),
        (
            "aof_last_bgrewrite_status",
            if st.last_rewrite_ok { "ok" } else { "err" }.to_string(),
        ),
        ("aof_rewrites", st.rewrites.to_string()),
        ("aof_rewrites_consecutive_failures", st.consecutive_failures.to_string()),
        (
            "aof_last_write_status",
            if st.last_write_ok && !fsync_failed(srv) {
                "ok"
            } else {
                "err"
            }
            .to_string(),
        ),
        ("aof_last_cow_size", "0".to_string()),
    ];
    let mut extra = Vec::new();
    if on {
        let pending_fsync = st.fsync.as_ref().map_or(0, |t| t.pending.load(Ordering::Relaxed));
        extra.extend([
            ("aof_current_size", current_size(srv).to_string()),
            ("aof_base_size", st.rewrite_base_size.to_string()),
            ("aof_pending_rewrite", u8::from(st.rewrite_scheduled).to_string()),
            (
                "aof_buffer_length",
                srv.aof.as_ref().map_or(0, |a| a.buf.len()).to_string(),
            ),
            ("aof_pending_bio_fsync", pending_fsync.to_string()),
            ("aof_delayed_fsync", st.delayed_fsync.to_string()),
        ]);
    }
    (v, extra)
}

/// While the AOF cannot be written, write commands (and PING) are refused
/// as in Redis: the MISCONF error.
pub fn write_error(srv: &Server) -> Option<String> {
    let st = &srv.aof_state;
    if st.last_write_ok && !fsync_failed(srv) {
        return None;
    }
    let why = if st.last_write_ok {
        "Input/output error"
    } else {
        st.last_write_error.as_str()
    };
    Some(format!("MISCONF Errors writing to the AOF file: {why}"))
}

/// Whether the last background fsync failed (reported as a write error).
pub fn fsync_failed(srv: &Server) -> bool {
    srv.aof_state
        .fsync
        .as_ref()
        .is_some_and(|t| t.failed.load(Ordering::Relaxed))
}

// ---------------------------------------------------------------------------
// Base files as commands (aof-use-rdb-preamble no)

/// Items per command when a collection is rewritten (Redis uses 64 too).
const ITEMS_PER_CMD: usize = 64;

/// Appends the commands that recreate one key of the database the stream has
/// selected, the way Redis's rewrite writes them: SET, RPUSH, SADD, ZADD,
/// HMSET in batches, streams as XADD / XSETID / XGROUP / XCLAIM, then the TTL
/// as PEXPIREAT.
pub fn rewrite_key(out: &mut Vec<u8>, key: &[u8], value: &shoal_store::Value, expire_at: Option<i64>) {
    use crate::propagate::encode_command;
    use shoal_store::Value;
    let batched = |out: &mut Vec<u8>, cmd: &[u8], items: &mut dyn Iterator<Item = Vec<Vec<u8>>>| {
        let mut argv: Vec<Vec<u8>> = vec![cmd.to_vec(), key.to_vec()];
        let mut n = 0;
        for item in items {
            argv.extend(item);
            n += 1;
            if n == ITEMS_PER_CMD {
                encode_command(out, &argv);
                argv.truncate(2);
                n = 0;
            }
        }
        if n > 0 {
            encode_command(out, &argv);
        }
    };
    match value {
        Value::List(l) => batched(out, b"RPUSH", &mut l.iter().map(|v| vec![v.to_vec()])),
        Value::Set(set) => batched(out, b"SADD", &mut set.iter().map(|m| vec![m.to_vec()])),
        Value::ZSet(z) => batched(
            out,
            b"ZADD",
            &mut z.iter().map(|(m, score)| {
                let mut s = Vec::with_capacity(24);
                shoal_util::num::format_double_into(score, &mut s);
                vec![s, m.to_vec()]
            }),
        ),
        Value::Hash(h) => {
            batched(out, b"HMSET", &mut h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()]));
            crate::commands::hash_ttl::rewrite_field_ttls(out, key, h);
        }
        Value::Stream(st) => rewrite_stream(out, key, st),
        other => {
            let bytes = other.str_bytes().map(|b| b.to_vec()).unwrap_or_default();
            encode_command(out, &[b"SET".to_vec(), key.to_vec(), bytes]);
        }
    }
    if let Some(at) = expire_at {
        encode_command(out, &[b"PEXPIREAT".to_vec(), key.to_vec(), at.to_string().into_bytes()]);
    }
}

fn rewrite_stream(out: &mut Vec<u8>, key: &[u8], st: &shoal_store::stream::StreamValue) {
    use crate::propagate::encode_command;
    use shoal_store::stream::StreamId;
    let k = || key.to_vec();
    let id = |i: StreamId| i.to_string().into_bytes();
    let entries = st.log.range(StreamId::MIN, StreamId::MAX, 0, false);
    if entries.is_empty() {
        // An empty stream still exists: add an entry and trim it away.
        encode_command(
            out,
            &[
                b"XADD".to_vec(),
                k(),
                b"MAXLEN".to_vec(),
                b"0".to_vec(),
                id(st.log.last_id),
                b"x".to_vec(),
                b"y".to_vec(),
            ],
        );
    }
    for (eid, fields) in &entries {
        let mut argv = vec![b"XADD".to_vec(), k(), id(*eid)];
        argv.extend(fields.iter().map(|f| f.to_vec()));
        encode_command(out, &argv);
    }
    encode_command(
        out,
        &[
            b"XSETID".to_vec(),
            k(),
            id(st.log.last_id),
            b"ENTRIESADDED".to_vec(),
            st.log.entries_added.to_string().into_bytes(),
            b"MAXDELETEDID".to_vec(),
            id(st.log.max_deleted_id),
        ],
    );
    for (name, g) in &st.groups {
        let mut argv = vec![b"XGROUP".to_vec(), b"CREATE".to_vec(), k(), name.clone(), id(g.last_id)];
        if g.entries_read >= 0 {
            argv.push(b"ENTRIESREAD".to_vec());
            argv.push(g.entries_read.to_string().into_bytes());
        }
        encode_command(out, &argv);
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                encode_command(
                    out,
                    &[
                        b"XGROUP".to_vec(),
                        b"CREATECONSUMER".to_vec(),
                        k(),
                        name.clone(),
                        cname.clone(),
                    ],
                );
            }
        }
        for (eid, nack) in &g.pel {
            encode_command(
                out,
                &[
                    b"XCLAIM".to_vec(),
                    k(),
                    name.clone(),
                    nack.consumer.clone(),
                    b"0".to_vec(),
                    id(*eid),
                    b"TIME".to_vec(),
                    nack.delivery_time.to_string().into_bytes(),
                    b"RETRYCOUNT".to_vec(),
                    nack.delivery_count.to_string().into_bytes(),
                    b"JUSTID".to_vec(),
                    b"FORCE".to_vec(),
                ],
            );
        }
    }
}

/// Turns an RDB image into an AOF-format base: SELECT per database, then
/// each key's commands. Runs on a helper thread (no engine state).
fn rdb_to_commands(rdb: &[u8], opts: &shoal_persist::Options, out: &mut impl Write) -> Result<(), String> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut selected: Option<usize> = None;
    let mut io_err: Option<std::io::Error> = None;
    let info = shoal_persist::rdb::load(rdb, opts, false, |k| {
        if selected != Some(k.db) {
            crate::propagate::encode_command(&mut buf, &[b"SELECT".to_vec(), k.db.to_string().into_bytes()]);
            selected = Some(k.db);
        }
        rewrite_key(&mut buf, &k.key, &k.value, k.expire_ms);
        if buf.len() >= 1 << 16 {
            if let Err(e) = out.write_all(&buf) {
                io_err = Some(e);
                return Err(shoal_persist::Error("write failed".into()));
            }
            buf.clear();
        }
        Ok(())
    })
    .map_err(|e| match io_err.take() {
        Some(io) => io.to_string(),
        None => e.0,
    })?;
    // Function libraries (Redis writes them first; any place before the
    // INCR files works, since a base is loaded whole before them).
    for code in &info.functions {
        crate::propagate::encode_command(&mut buf, &[b"FUNCTION".to_vec(), b"LOAD".to_vec(), code.clone()]);
    }
    out.write_all(&buf).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_store::list::{ListValue, NodeLimit};
    use shoal_store::Value;

    fn commands(out: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut r = CommandReader::new(out, 0);
        let mut all = Vec::new();
        while let Some(c) = r.next_command().unwrap() {
            all.push(c);
        }
        all
    }

    #[test]
    fn strings_and_ttls_as_commands() {
        let mut out = Vec::new();
        rewrite_key(&mut out, b"k", &Value::Int(42), Some(1_900_000_000_000));
        assert_eq!(
            commands(&out),
            vec![
                vec![b"SET".to_vec(), b"k".to_vec(), b"42".to_vec()],
                vec![b"PEXPIREAT".to_vec(), b"k".to_vec(), b"1900000000000".to_vec()],
            ]
        );
    }

    #[test]
    fn long_lists_are_batched() {
        let mut l = ListValue::new();
        for i in 0..130 {
            l.push_back(i.to_string().as_bytes(), NodeLimit(-2));
        }
        let mut out = Vec::new();
        rewrite_key(&mut out, b"l", &Value::List(Box::new(l)), None);
        let cmds = commands(&out);
        assert_eq!(cmds.iter().map(|c| c.len() - 2).collect::<Vec<_>>(), vec![64, 64, 2]);
        assert!(cmds.iter().all(|c| c[0] == b"RPUSH" && c[1] == b"l"));
        assert_eq!(cmds[2][3], b"129".to_vec());
    }
}
