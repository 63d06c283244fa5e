//! Loading the RDB at start-up while serving: a thread reads and decodes the
//! file, the engine inserts the decoded keys in slices between event-loop
//! turns, and meanwhile commands without the `loading` flag get `-LOADING`
//! (INFO, PING's friends and CONFIG still answer), as Redis does.
//!
//! Decoding (LZF, listpacks, integer parsing) runs in parallel with the
//! engine's inserts, which is why this is also the faster way to load.

use crate::commands::persistence::{finish_load, options, KeyLoader};
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_persist::rdb::{LoadInfo, LoadedKey};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::time::{Duration, Instant};

enum Msg {
    Keys(Vec<LoadedKey>),
    Done(Result<LoadInfo, String>),
}

pub struct Loading {
    rx: Receiver<Msg>,
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
    // Bounded: decoded keys wait for the engine in at most 64 batches.
    let (tx, rx) = sync_channel::<Msg>(64);
    let file = path.to_string();
    std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || {
            let result = std::fs::read(&file).map_err(|e| e.to_string()).and_then(|bytes| {
                let mut batch = Vec::with_capacity(1024);
                let info = shoal_persist::rdb::load(&bytes, &opts, checksum, |k| {
                    batch.push(k);
                    if batch.len() == 1024 {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(1024));
                        tx.send(Msg::Keys(full))
                            .map_err(|_| shoal_persist::Error("loading cancelled".into()))?;
                    }
                    Ok(())
                })
                .map_err(|e| e.0);
                if !batch.is_empty() {
                    let _ = tx.send(Msg::Keys(batch));
                }
                info
            });
            let _ = tx.send(Msg::Done(result));
        })
        .map_err(|e| format!("Can't start the loading thread: {e}"))?;
    srv.loading = Some(Loading {
        rx,
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
        // Wait a little for the decoder rather than spin the event loop.
        let msg = match l.rx.try_recv() {
            Err(TryRecvError::Empty) => l.rx.recv_timeout(Duration::from_millis(2)).map_err(|e| match e {
                std::sync::mpsc::RecvTimeoutError::Timeout => TryRecvError::Empty,
                std::sync::mpsc::RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
            }),
            other => other,
        };
        match msg {
            Ok(Msg::Keys(keys)) => {
                for k in keys {
                    l.loaded_bytes = k.offset as u64;
                    if let Err(e) = l.loader.insert(&mut srv.keyspace.dbs, k) {
                        fatal(&l.path, &e);
                    }
                }
            }
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

fn fatal(path: &str, e: &str) -> ! {
    warning!("Fatal error loading the DB ({path}): {e}. Exiting.");
    std::process::exit(1);
}
