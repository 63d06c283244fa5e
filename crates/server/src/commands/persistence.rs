//! DUMP, RESTORE, SAVE, and loading `dir/dbfilename` at start-up. The formats
//! live in `shoal-persist`; this file decides when and where.
//!
//! BGSAVE is not here on purpose: it must build its snapshot without stalling
//! the engine (DESIGN.md §3), which is a later step.

use super::{eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_persist::dump::RestoreError;
use shoal_persist::rdb::{Access, LoadedKey, SaveMeta};
use shoal_persist::{Error as PersistError, Options};
use shoal_store::hash::HashLimits;
use shoal_store::set::SetLimits;
use shoal_store::stream::NodeLimits;
use shoal_store::zset::ZSetLimits;
use shoal_store::NO_EXPIRE;
use std::io::Write;

/// Encoding thresholds and RDB settings from the current config.
pub fn options(srv: &Server) -> Options {
    let c = &srv.config;
    let cap = |v: u64| v.min(usize::MAX as u64) as usize;
    Options {
        hash: HashLimits {
            max_entries: cap(c.hash_max_listpack_entries),
            max_value: cap(c.hash_max_listpack_value),
        },
        set: SetLimits {
            max_intset: cap(c.set_max_intset_entries),
            max_listpack: cap(c.set_max_listpack_entries),
            max_value: cap(c.set_max_listpack_value),
        },
        zset: ZSetLimits {
            max_listpack: cap(c.zset_max_listpack_entries),
            max_value: cap(c.zset_max_listpack_value),
        },
        list_max_listpack_size: c.list_max_listpack_size as i64,
        stream: NodeLimits {
            max_bytes: cap(c.stream_node_max_bytes),
            max_entries: cap(c.stream_node_max_entries),
        },
        compress: c.rdbcompression,
    }
}

fn is_lfu(srv: &Server) -> bool {
    srv.config.maxmemory_policy.name().contains("lfu")
}

fn is_lru(srv: &Server) -> bool {
    srv.config.maxmemory_policy.name().contains("lru")
}

/// The access stamp for a restored or loaded key, if the payload or file gave one.
fn access_stamp(srv: &Server, idle: Option<u64>, freq: Option<u8>) -> Option<u32> {
    if is_lfu(srv) {
        freq.map(|f| ((((srv.now_ms / 60_000) & 0xffff) as u32) << 8) | f as u32)
    } else {
        idle.map(|i| srv.lru_clock.saturating_sub(i.min(u32::MAX as u64) as u32))
    }
}

/// DUMP key
pub fn dump(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let opts = options(ctx.srv);
    let payload = match lookup_read(ctx.srv, db, args[1]) {
        Some(e) => shoal_persist::dump::dump(&e.value, &opts),
        None => {
            ctx.out().null();
            return;
        }
    };
    ctx.out().bulk(&payload);
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
pub fn restore(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<u64>, Option<u8>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if eq_ic(args[j], "replace") {
            replace = true;
        } else if eq_ic(args[j], "absttl") {
            absttl = true;
        } else if eq_ic(args[j], "idletime") && more && freq.is_none() {
            let Some(v) = parse_int(args[j + 1]) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            if v < 0 {
                ctx.out().error("ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(v as u64);
            j += 1;
        } else if eq_ic(args[j], "freq") && more && idle.is_none() {
            let Some(v) = parse_int(args[j + 1]) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            if !(0..=255).contains(&v) {
                ctx.out().error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(v as u8);
            j += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let db = ctx.client.db;
    let key = args[1];
    if !replace && lookup_write(ctx.srv, db, key).is_some() {
        ctx.out().error("BUSYKEY Target key name already exists.");
        return;
    }
    let Some(mut ttl) = parse_int(args[2]) else {
        ctx.out().error(err::NOT_INT);
        return;
    };
    if ttl < 0 {
        ctx.out().error("ERR Invalid TTL value, must be >= 0");
        return;
    }
    let value = match shoal_persist::dump::restore(args[3], &options(ctx.srv)) {
        Ok(v) => v,
        Err(RestoreError::Footer) => {
            ctx.out().error("ERR DUMP payload version or checksum are wrong");
            return;
        }
        Err(RestoreError::Data(_)) => {
            ctx.out().error("ERR Bad data format");
            return;
        }
    };
    let now = ctx.now();
    let d = &mut ctx.srv.keyspace.dbs[db];
    let mut deleted = false;
    if replace {
        if let Some(old) = d.remove(key) {
            deleted = true;
            if old.value.is_big() {
                ctx.srv.lazyfree.free(old);
            }
        }
    }
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && super::keyspace::already_expired(ctx, ttl) {
        // Already expired: the key is gone (and the old one was deleted,
        // which is the only effect, as in Redis).
        ctx.propagate_nothing();
        if deleted {
            super::keyspace::propagate_del(ctx, key, false);
            ctx.notify(crate::notify::class::GENERIC, "del", key);
        }
        ctx.out().ok();
        return;
    }
    // Like Redis, a relative TTL propagates as an absolute one (ABSTTL).
    if ttl != 0 && !absttl && ctx.propagating() {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        argv[2] = super::keyspace::int_bytes(ttl);
        argv.push(b"ABSTTL".to_vec());
        ctx.propagate(argv);
    }
    let stamp = access_stamp(ctx.srv, idle, freq);
    let d = &mut ctx.srv.keyspace.dbs[db];
    d.insert_entry(key, value, if ttl != 0 { ttl } else { NO_EXPIRE });
    if let Some(s) = stamp {
        if let Some(e) = d.get_mut(key, i64::MIN) {
            e.lru = s;
        }
    }
    ctx.notify(crate::notify::class::NEW, "new", key);
    ctx.notify(crate::notify::class::GENERIC, "restore", key);
    ctx.out().ok();
}

/// Redis's `REDIS_AUTOSYNC_BYTES`: with `rdb-save-incremental-fsync` (RDB
/// saves) or `aof-rewrite-incremental-fsync` (AOF rewrites) on, the file being
/// written is fdatasync'ed every 4 MB, so the kernel never piles up a big
/// dirty backlog for one final fsync (and the disk's latency for everyone
/// else) to pay at once.
pub const AUTOSYNC_BYTES: u64 = 4 << 20;

/// A file being written that fdatasyncs itself every `every` bytes (0: never).
pub struct AutoSync {
    file: std::fs::File,
    every: u64,
    unsynced: u64,
    /// fdatasync calls made so far.
    pub syncs: u64,
}

impl AutoSync {
    pub fn new(file: std::fs::File, incremental_fsync: bool) -> AutoSync {
        AutoSync::every(file, if incremental_fsync { AUTOSYNC_BYTES } else { 0 })
    }

    pub fn every(file: std::fs::File, every: u64) -> AutoSync {
        AutoSync {
            file,
            every,
            unsynced: 0,
            syncs: 0,
        }
    }

    /// The final fsync of the whole file.
    pub fn sync_all(&self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

impl Write for AutoSync {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        if self.every > 0 {
            self.unsynced += n as u64;
            if self.unsynced >= self.every {
                self.file.sync_data()?;
                self.syncs += 1;
                self.unsynced = 0;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// What an RDB records of each key's access, as Redis decides it: the idle
/// time under an LRU policy, the decayed LFU counter under an LFU policy,
/// nothing otherwise.
pub fn rdb_access(srv: &Server) -> Access {
    if is_lfu(srv) {
        Access::Lfu {
            minutes: crate::evict::lfu_minutes(unix_ms()),
            decay: srv.config.lfu_decay_time,
        }
    } else if is_lru(srv) {
        Access::Lru(srv.lru_clock)
    } else {
        Access::None
    }
}

/// Writes every database to `path` through a temp file in the same directory
/// and a rename, so a crash never leaves a half-written dump behind.
pub fn save_to(srv: &Server, path: &str) -> Result<u64, String> {
    let tmp = format!("temp-{}.rdb", std::process::id());
    let opts = options(srv);
    let ctime = (unix_ms() / 1000).to_string();
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let used = tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0).to_string();
    let aux = [
        ("redis-ver", crate::server::VERSION.as_bytes().to_vec()),
        ("redis-bits", b"64".to_vec()),
        ("ctime", ctime.into_bytes()),
        ("used-mem", used.into_bytes()),
        ("aof-base", b"0".to_vec()),
    ];
    let access = rdb_access(srv);
    let meta = SaveMeta {
        aux: &aux,
        checksum: srv.config.rdbchecksum,
        access,
    };
    let file = std::fs::File::create(&tmp).map_err(|e| {
        let cwd = std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        format!("Failed opening the temp RDB file {tmp} (in server root dir {cwd}) for saving: {e}")
    })?;
    let file = AutoSync::new(file, srv.config.rdb_save_incremental_fsync);
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    let functions = srv.scripts.functions.codes();
    let written = shoal_persist::rdb::write_rdb_with_functions(&mut w, &srv.keyspace.dbs, &functions, &meta, &opts)
        .and_then(|n| w.flush().map(|_| n))
        .and_then(|n| w.get_ref().sync_all().map(|_| n));
    let keys = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("Write error saving DB on disk: {e}"));
        }
    };
    drop(w);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        let cwd = std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        return Err(format!(
            "Error moving temp DB file {tmp} on the final destination {path} (in server root dir {cwd}): {e}"
        ));
    }
    Ok(keys)
}

/// SAVE
pub fn save(ctx: &mut Ctx, _args: &[&[u8]]) {
    if save_now(ctx.srv) {
        ctx.out().ok();
    } else {
        ctx.out().error("ERR");
    }
}

/// A foreground save to `dbfilename` (SAVE, FLUSHALL with save points):
/// on success the dirty counter restarts at 0. False after logging why not.
pub fn save_now(srv: &mut Server) -> bool {
    let path = srv.config.dbfilename.clone();
    match save_to(srv, &path) {
        Ok(_) => {
            notice!("DB saved on disk");
            srv.last_save_unix = unix_ms() / 1000;
            srv.last_bgsave_ok = true;
            srv.dirty = 0;
            srv.rdb_saves += 1;
            true
        }
        Err(e) => {
            warning!("{e}");
            false
        }
    }
}

/// Loads `path` into the (empty) keyspace. Keys already expired are dropped.
pub fn load_from(srv: &mut Server, path: &str) -> Result<Option<shoal_persist::rdb::LoadInfo>, String> {
    load_rdb(srv, path, false)
}

/// Loads the RDB a master sent. Keys already expired are kept: a replica
/// waits for its master's DEL rather than expiring keys itself.
pub fn load_rdb_for_replica(srv: &mut Server, path: &str) -> Result<(), String> {
    match load_rdb(srv, path, true)? {
        Some(_) => Ok(()),
        None => Err(format!("{path} vanished")),
    }
}

fn load_rdb(srv: &mut Server, path: &str, keep_expired: bool) -> Result<Option<shoal_persist::rdb::LoadInfo>, String> {
    load_rdb_merging(srv, path, keep_expired, false)
}

fn load_rdb_merging(
    srv: &mut Server,
    path: &str,
    keep_expired: bool,
    merge: bool,
) -> Result<Option<shoal_persist::rdb::LoadInfo>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    load_rdb_bytes(srv, &bytes, keep_expired, merge).map(Some)
}

/// Loads an RDB image (a file, or the base of an AOF, which keeps expired
/// keys: later commands in the AOF may still touch them).
pub fn load_rdb_bytes(
    srv: &mut Server,
    bytes: &[u8],
    keep_expired: bool,
    merge: bool,
) -> Result<shoal_persist::rdb::LoadInfo, String> {
    let opts = options(srv);
    let checksum = srv.config.rdbchecksum;
    let mut loader = KeyLoader::new(srv, keep_expired);
    loader.merge = merge;
    let dbs = &mut srv.keyspace.dbs;
    let info = shoal_persist::rdb::load(bytes, &opts, checksum, |k: LoadedKey| {
        loader.insert(dbs, k).map_err(PersistError)
    })
    .map_err(|e| e.0)?;
    loader.finish(srv);
    finish_load(srv, &info, loader.expired)?;
    Ok(info)
}

/// The per-key rules of an RDB load: database range, expired keys (dropped
/// unless kept), duplicates (fatal), and the LRU/LFU stamps the file carries.
pub struct KeyLoader {
    now: i64,
    keep_expired: bool,
    lfu: bool,
    clock: u32,
    minutes: u32,
    pub expired: u64,
    stamps: Vec<(usize, Vec<u8>, u32)>,
    /// DEBUG RELOAD MERGE: a key already present is replaced, not fatal.
    pub merge: bool,
}

impl KeyLoader {
    pub fn new(srv: &Server, keep_expired: bool) -> Self {
        let now = unix_ms();
        KeyLoader {
            now,
            keep_expired,
            lfu: is_lfu(srv),
            clock: srv.lru_clock,
            minutes: (((now / 60_000) & 0xffff) as u32) << 8,
            expired: 0,
            stamps: Vec::new(),
            merge: false,
        }
    }

    pub fn insert(&mut self, dbs: &mut [shoal_store::Db], k: LoadedKey) -> Result<(), String> {
        let ndb = dbs.len();
        if k.db >= ndb {
            return Err(format!(
                "FATAL: Data file was created with a Redis server configured to handle more than {ndb} databases."
            ));
        }
        if let Some(at) = k.expire_ms {
            if at < self.now && !self.keep_expired {
                self.expired += 1;
                return Ok(());
            }
        }
        let stamp = if self.lfu {
            k.freq.map(|f| self.minutes | f as u32)
        } else {
            k.idle.map(|i| self.clock.saturating_sub(i.min(u32::MAX as u64) as u32))
        };
        let expire = k.expire_ms.unwrap_or(NO_EXPIRE);
        let value = match dbs[k.db].insert_new(&k.key, k.value, expire) {
            Err(value) if self.merge => {
                dbs[k.db].remove(&k.key);
                dbs[k.db].insert_new(&k.key, value, expire)
            }
            other => other,
        };
        if value.is_err() {
            return Err(format!(
                "RDB has duplicated key '{}' in DB {}",
                String::from_utf8_lossy(&k.key),
                k.db
            ));
        }
        if let Some(s) = stamp {
            self.stamps.push((k.db, k.key, s));
        }
        Ok(())
    }

    /// Applies the access stamps (after every key is in: inserting resets them).
    pub fn finish(&mut self, srv: &mut Server) {
        for (db, key, s) in self.stamps.drain(..) {
            if let Some(e) = srv.keyspace.dbs[db].get_mut(&key, i64::MIN) {
                e.lru = s;
            }
        }
    }
}

/// After an RDB's keys: logs what the file says about itself, loads its
/// function libraries, and reports the counts.
pub fn finish_load(srv: &mut Server, info: &shoal_persist::rdb::LoadInfo, expired: u64) -> Result<(), String> {
    let now = unix_ms();
    for (k, v) in &info.aux {
        match &k[..] {
            b"redis-ver" => notice!("Loading RDB produced by version {}", String::from_utf8_lossy(v)),
            b"aof-base" if v.as_slice() == b"1" => notice!("RDB is base AOF"),
            b"ctime" => {
                if let Some(t) = parse_int(v) {
                    notice!("RDB age {} seconds", (now / 1000 - t).max(0));
                }
            }
            b"used-mem" => {
                if let Some(m) = parse_int(v) {
                    notice!("RDB memory usage when created {:.2} Mb", m as f64 / (1024.0 * 1024.0));
                }
            }
            _ => {}
        }
    }
    // Like Redis's emptyData(), loading replaces the function libraries too.
    srv.scripts.functions.clear();
    if let Err(e) = crate::commands::function::load_from_rdb(&mut srv.scripts.functions, &info.functions) {
        return Err(format!("Failed loading library: {e}"));
    }
    if info.empty_keys_skipped > 0 {
        warning!("Done loading RDB, empty keys skipped: {}", info.empty_keys_skipped);
    }
    notice!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        info.keys - expired,
        expired
    );
    srv.stats.rdb_last_load_keys_loaded = info.keys - expired;
    srv.stats.rdb_last_load_keys_expired = expired;
    Ok(())
}

/// Start-up: loads `dbfilename` from the working directory (`dir`) if it exists.
/// Returns false, after logging why, when the file is unreadable or corrupt.
pub fn load_at_startup(srv: &mut Server) -> bool {
    let path = srv.config.dbfilename.clone();
    // Loaded while the event loop serves (see `crate::loading`), after a
    // head start that is enough for small files: no one sees -LOADING then.
    if let Err(e) = crate::loading::start(srv, &path) {
        warning!("Fatal error loading the DB ({path}): {e}. Exiting.");
        return false;
    }
    let head_start = std::time::Instant::now();
    while srv.loading.is_some() && head_start.elapsed() < std::time::Duration::from_millis(500) {
        crate::loading::step(srv);
    }
    true
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save (unless NOSAVE), empty every
/// database (unless NOFLUSH), load the file back (MERGE replaces keys already
/// present). Errors as Redis 7.0.15 words them: a bare `ERR` when the save
/// fails, "Error trying to load the RDB dump" when the load does.
pub fn debug_reload(srv: &mut Server, options: &[&[u8]]) -> Result<(), &'static str> {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in options {
        match opt.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => return Err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."),
        }
    }
    let path = srv.config.dbfilename.clone();
    if save {
        if let Err(e) = save_to(srv, &path) {
            warning!("{e}");
            return Err("ERR");
        }
        srv.last_save_unix = unix_ms() / 1000;
    }
    if flush {
        let old = srv.keyspace.take_all();
        srv.lazyfree.free(old);
    }
    // NOFLUSH without MERGE meets every key twice: Redis stops the process
    // on the first duplicate; here the load stops there with an error.
    match load_rdb_merging(srv, &path, false, merge) {
        Ok(Some(_)) => {
            warning!("DB reloaded by DEBUG RELOAD");
            Ok(())
        }
        Ok(None) => Err("ERR Error trying to load the RDB dump"),
        Err(e) => {
            warning!("Error loading the RDB dump: {e}");
            Err("ERR Error trying to load the RDB dump")
        }
    }
}

/// BGSAVE [SCHEDULE]: a fork-less background save (see `crate::snapshot`).
pub fn bgsave(ctx: &mut Ctx, args: &[&[u8]]) {
    let schedule = match args.len() {
        1 => false,
        2 if super::eq_ic(args[1], "schedule") => true,
        _ => {
            ctx.out().error(super::err::SYNTAX);
            return;
        }
    };
    if crate::aof::rewrite_blocks_bgsave(ctx.srv) || (ctx.srv.snapshot.is_some() && ctx.client.in_exec) {
        if schedule || ctx.client.in_exec {
            ctx.srv.aof_state.bgsave_scheduled = true;
            ctx.out().simple("Background saving scheduled");
        } else {
            ctx.out().error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
        return;
    }
    if ctx.srv.snapshot.is_some() {
        if schedule {
            ctx.out().simple("Background saving scheduled");
        } else {
            ctx.out().error("ERR Background save already in progress");
        }
        return;
    }
    match crate::snapshot::start_bgsave(ctx.srv) {
        Ok(()) => {
            notice!("Background saving started");
            ctx.out().simple("Background saving started");
        }
        Err(e) => {
            // Where Redis's forked child would fail (the temp file can't be
            // created), the save started and failed: the status says so.
            warning!("Background saving error: {e}");
            ctx.srv.last_bgsave_ok = false;
            ctx.srv.last_bgsave_try = unix_ms() / 1000;
            ctx.out().simple("Background saving started");
        }
    }
}
