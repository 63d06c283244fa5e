//! Loading the RDB at start-up while serving: a thread reads and decodes the
//! file, the engine inserts the decoded keys in slices between event-loop
//! turns, and meanwhile commands without the `loading` flag get `-LOADING`
//! (INFO, PING's friends and CONFIG still answer), as Redis does.
//!
//! Decoding (LZF, listpacks, integer parsing) runs in parallel with the
//! engine's inserts, which is why this is also the faster way to load. The
//! decoder parses the file through a read-only mapping (no up-front read of
//! the whole file), checks the CRC64 a chunk at a time as it goes (not in a
//! second pass at the end), and hands the keys over in batches sorted by
//! cluster slot, so the engine's inserts walk the per-slot tables in order.

use crate::commands::persistence::{finish_load, options, KeyLoader};
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_persist::rdb::{LoadInfo, LoadedKey};
use shoal_util::crc16::key_hash_slot;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// Keys decoded per batch handed to the engine, and batches that may wait.
/// A batch is inserted in slot order: with ~4 keys per cluster slot in a
/// batch, consecutive inserts hit the same small per-slot hash table
/// (already in cache) instead of a random one of 16,384 each time, which
/// is what bounds the insert rate of a big load.
const BATCH: usize = 1 << 16;
const QUEUED_BATCHES: usize = 4;
/// Keys inserted between two looks at the time budget.
const STEP_KEYS: usize = 1024;

/// Reorders a batch by cluster slot (a stable counting sort; each key is
/// moved once).
fn by_slot(batch: Vec<LoadedKey>) -> Vec<LoadedKey> {
    const SLOTS: usize = 16384;
    let slots: Vec<u16> = batch.iter().map(|k| key_hash_slot(&k.key)).collect();
    let mut next = vec![0u32; SLOTS + 1];
    for &s in &slots {
        next[s as usize + 1] += 1;
    }
    for i in 0..SLOTS {
        next[i + 1] += next[i];
    }
    let n = batch.len();
    let mut out: Vec<std::mem::MaybeUninit<LoadedKey>> = Vec::with_capacity(n);
    out.resize_with(n, std::mem::MaybeUninit::uninit);
    for (k, &s) in batch.into_iter().zip(&slots) {
        let at = &mut next[s as usize];
        out[*at as usize].write(k);
        *at += 1;
    }
    // SAFETY: the prefix sums give each slot a disjoint range of positions
    // sized to its count, so the n keys filled all n positions exactly once;
    // MaybeUninit<T> has T's layout.
    unsafe {
        let mut out = std::mem::ManuallyDrop::new(out);
        Vec::from_raw_parts(out.as_mut_ptr() as *mut LoadedKey, out.len(), out.capacity())
    }
}

enum Msg {
    Keys(Vec<LoadedKey>),
    Done(Result<LoadInfo, String>),
}

pub struct Loading {
    rx: Receiver<Msg>,
    /// The rest of the batch being inserted.
    pending: std::vec::IntoIter<LoadedKey>,
    loader: KeyLoader,
    started: Instant,
    pub start_unix: i64,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
    path: String,
}

impl Loading {
    pub fn loaded_perc(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            self.loaded_bytes as f64 * 100.0 / self.total_bytes as f64
        }
    }

    pub fn eta_seconds(&self) -> i64 {
        let done = self.loaded_bytes.max(1) as f64;
        let left = self.total_bytes.saturating_sub(self.loaded_bytes) as f64;
        (self.started.elapsed().as_secs_f64() * left / done) as i64
    }
}

/// Starts loading `path` if it exists. Returns Err when it can't be read.
pub fn start(srv: &mut Server, path: &str) -> Result<(), String> {
    let total_bytes = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let opts = options(srv);
    let checksum = srv.config.rdbchecksum;
    // Bounded: decoded keys wait for the engine in at most a few batches.
    let (tx, rx) = sync_channel::<Msg>(QUEUED_BATCHES);
    let file = path.to_string();
    std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || {
            let result = FileBytes::open(&file).map_err(|e| e.to_string()).and_then(|bytes| {
                let mut batch = Vec::with_capacity(BATCH);
                let info = shoal_persist::rdb::load(&bytes, &opts, checksum, |k| {
                    batch.push(k);
                    if batch.len() == BATCH {
                        let full = by_slot(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                        tx.send(Msg::Keys(full))
                            .map_err(|_| shoal_persist::Error("loading cancelled".into()))?;
                    }
                    Ok(())
                })
                .map_err(|e| e.0);
                if !batch.is_empty() {
                    let _ = tx.send(Msg::Keys(by_slot(batch)));
                }
                info
            });
            let _ = tx.send(Msg::Done(result));
        })
        .map_err(|e| format!("Can't start the loading thread: {e}"))?;
    srv.loading = Some(Loading {
        rx,
        pending: Vec::new().into_iter(),
        loader: KeyLoader::new(srv, false),
        started: Instant::now(),
        start_unix: unix_ms() / 1000,
        total_bytes,
        loaded_bytes: 0,
        path: path.to_string(),
    });
    Ok(())
}

/// Event-loop hook: inserts decoded keys for a few milliseconds. A load that
/// fails stops the process, as it would stop Redis's start-up.
pub fn step(srv: &mut Server) {
    let Some(mut l) = srv.loading.take() else {
        return;
    };
    let budget = Duration::from_millis(5);
    let started = Instant::now();
    loop {
        if l.pending.len() > 0 {
            for k in l.pending.by_ref().take(STEP_KEYS) {
                l.loaded_bytes = l.loaded_bytes.max(k.offset as u64);
                if let Err(e) = l.loader.insert(&mut srv.keyspace.dbs, k) {
                    fatal(&l.path, &e);
                }
            }
            if started.elapsed() >= budget {
                break;
            }
            continue;
        }
        // Wait a little for the decoder rather than spin the event loop.
        let msg = match l.rx.try_recv() {
            Err(TryRecvError::Empty) => l.rx.recv_timeout(Duration::from_millis(2)).map_err(|e| match e {
                std::sync::mpsc::RecvTimeoutError::Timeout => TryRecvError::Empty,
                std::sync::mpsc::RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
            }),
            other => other,
        };
        match msg {
            Ok(Msg::Keys(keys)) => l.pending = keys.into_iter(),
            Ok(Msg::Done(Ok(info))) => {
                l.loader.finish(srv);
                if let Err(e) = finish_load(srv, &info, l.loader.expired) {
                    fatal(&l.path, &e);
                }
                notice!("DB loaded from disk: {:.3} seconds", l.started.elapsed().as_secs_f64());
                return;
            }
            Ok(Msg::Done(Err(e))) => fatal(&l.path, &e),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => fatal(&l.path, "the loading thread stopped"),
        }
        if started.elapsed() >= budget {
            break;
        }
    }
    srv.loading = Some(l);
}

/// The bytes of a file to parse: mapped read-only when possible (no copy
/// into fresh anonymous pages, and the parse starts at once instead of after
/// reading the whole file), else read into memory. Servers replace their RDB
/// by renaming a new file over it, which leaves a mapping of the old one
/// intact.
pub enum FileBytes {
    Mapped { ptr: *mut libc::c_void, len: usize },
    Read(Vec<u8>),
}

// The mapping is read-only and owned: it can move between threads.
unsafe impl Send for FileBytes {}

impl FileBytes {
    pub fn open(path: &str) -> std::io::Result<FileBytes> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len() as usize;
        if len > 0 {
            // SAFETY: a fresh private read-only mapping of a file we opened;
            // it is unmapped once, in Drop.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                // SAFETY: advice (one kind per call) on the range just mapped.
                unsafe {
                    libc::madvise(ptr, len, libc::MADV_SEQUENTIAL);
                    libc::madvise(ptr, len, libc::MADV_WILLNEED);
                }
                return Ok(FileBytes::Mapped { ptr, len });
            }
        }
        std::fs::read(path).map(FileBytes::Read)
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            // SAFETY: `len` readable bytes stay mapped until Drop.
            FileBytes::Mapped { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr as *const u8, *len) },
            FileBytes::Read(v) => v,
        }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        if let FileBytes::Mapped { ptr, len } = *self {
            // SAFETY: mapped in `open`, unmapped only here.
            unsafe { libc::munmap(ptr, len) };
        }
    }
}

fn fatal(path: &str, e: &str) -> ! {
    warning!("Fatal error loading the DB ({path}): {e}. Exiting.");
    std::process::exit(1);
}
