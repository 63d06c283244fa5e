//! The engine state a node's single engine thread owns: configuration, keyspace,
//! clients, statistics. Command implementations get `&mut Server`.

use crate::client::Client;
use crate::commands::CommandTable;
use crate::stats::{LatencyMonitor, Slowlog, Stats};
use shoal_config::Config;
use shoal_store::lazyfree::LazyFree;
use shoal_store::Keyspace;
use shoal_util::rand::FastRng;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub const VERSION: &str = "7.0.15";

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Client connections, indexed by poll token.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    by_id: HashMap<u64, usize>,
    /// Clients currently taken out of their slot (the one running a command).
    taken: usize,
}

impl Clients {
    pub fn insert(&mut self, client: Box<Client>) -> usize {
        let id = client.state.id;
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(client);
                i
            }
            None => {
                self.slots.push(Some(client));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, idx);
        idx
    }

    /// Takes a client out to run its commands while the rest of the server stays
    /// borrowable; [`Clients::put_back`] returns it.
    pub fn take(&mut self, idx: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(idx)?.take();
        if c.is_some() {
            self.taken += 1;
        }
        c
    }

    pub fn put_back(&mut self, idx: usize, client: Box<Client>) {
        self.taken -= 1;
        self.slots[idx] = Some(client);
    }

    pub fn remove(&mut self, idx: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(idx)?.take()?;
        self.by_id.remove(&c.state.id);
        self.free.push(idx);
        Some(c)
    }

    /// Forgets a client that was taken out and will not be put back.
    pub fn release_taken(&mut self, idx: usize, id: u64) {
        self.taken -= 1;
        self.by_id.remove(&id);
        self.free.push(idx);
    }

    pub fn get(&self, idx: usize) -> Option<&Client> {
        self.slots.get(idx)?.as_deref()
    }

    pub fn get_mut(&mut self, idx: usize) -> Option<&mut Client> {
        self.slots.get_mut(idx)?.as_deref_mut()
    }

    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Connected clients, including any taken out right now.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Clients present in their slots (not the one running a command).
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Client)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_deref().map(|c| (i, c)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Client)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, c)| c.as_deref_mut().map(|c| (i, c)))
    }
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PauseKind {
    All,
    Write,
}

pub struct Server {
    pub config: Config,
    /// ACL users and the ACL log.
    pub acl: crate::acl::Acl,
    pub keyspace: Keyspace,
    pub lazyfree: LazyFree,
    pub commands: CommandTable,
    pub clients: Clients,
    pub stats: Stats,
    pub slowlog: Slowlog,
    pub latency: LatencyMonitor,
    pub rng: FastRng,
    /// Time of the command being run (Unix ms); expiry decisions use it.
    pub now_ms: i64,
    pub start_ms: i64,
    pub next_client_id: u64,
    pub run_id: String,
    /// Tokens of clients whose output grew outside their own command (MONITOR).
    pub pending_writes: Vec<usize>,
    /// Ids of MONITOR clients.
    pub monitors: Vec<u64>,
    pub pause: Option<(PauseKind, i64)>,
    pub blocking: crate::blocking::Blocking,
    pub watches: crate::watch::Watches,
    pub pubsub: crate::pubsub::PubSub,
    pub memory: crate::evict::MemoryGauge,
    pub scripts: crate::commands::scripting::Scripts,
    /// A BGSAVE in progress.
    pub snapshot: Option<crate::snapshot::Snapshot>,
    pub last_bgsave_ok: bool,
    /// Writes since the last successful save (`rdb_changes_since_last_save`).
    pub dirty: u64,
    /// `dirty` when the running BGSAVE started.
    pub dirty_at_bgsave: u64,
    pub rdb_saves: u64,
    pub last_bgsave_secs: i64,
    /// Unix seconds of the last save attempt, for `save` points after a failure.
    pub last_bgsave_try: i64,
    /// CLIENT UNBLOCK requests: (client id, reply with an error).
    pub unblock_requests: Vec<(u64, bool)>,
    pub shutdown_requested: bool,
    pub active_expire_enabled: bool,
    pub last_save_unix: i64,
    /// Bound TCP port (after listening; `port 0` picks none).
    pub tcp_port: u16,
    pub executable: String,
    /// The LRU clock, seconds, for OBJECT IDLETIME.
    pub lru_clock: u32,
    pub propagator: crate::propagate::Propagator,
    /// The append-only file, when `appendonly` is on.
    pub aof: Option<crate::aof::Aof>,
    /// AOF manifest, rewrite bookkeeping and figures (also while it is off).
    pub aof_state: crate::aof::AofState,
    pub repl: crate::replication::Replication,
    /// Keyspace notification messages held for the running client.
    pub notify: crate::notify::Notifier,
    /// Client-side caching: tracking clients, the key table, BCAST prefixes.
    pub tracking: crate::tracking::Tracking,
    /// The start-up RDB load in progress.
    pub loading: Option<crate::loading::Loading>,
}

impl Server {
    pub fn new(config: Config) -> Self {
        let now = unix_ms();
        let databases = config.databases as usize;
        let mut rng = FastRng::new(now as u64 ^ std::process::id() as u64);
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap())
            .collect();
        let replid: String = (0..40)
            .map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap())
            .collect();
        let mut keyspace = Keyspace::new(databases);
        for db in keyspace.dbs.iter_mut() {
            db.lru_clock = (now / 1000) as u32;
        }
        Server {
            acl: crate::acl::Acl::new(&config),
            config,
            keyspace,
            lazyfree: LazyFree::new(),
            commands: CommandTable::new(),
            clients: Clients::default(),
            stats: Stats::default(),
            slowlog: Slowlog::default(),
            latency: LatencyMonitor::default(),
            rng,
            now_ms: now,
            start_ms: now,
            next_client_id: 1,
            run_id,
            pending_writes: Vec::new(),
            monitors: Vec::new(),
            pause: None,
            blocking: Default::default(),
            watches: Default::default(),
            pubsub: Default::default(),
            memory: crate::evict::MemoryGauge::new(),
            scripts: Default::default(),
            snapshot: None,
            last_bgsave_ok: true,
            dirty: 0,
            dirty_at_bgsave: 0,
            rdb_saves: 0,
            last_bgsave_secs: -1,
            last_bgsave_try: 0,
            unblock_requests: Vec::new(),
            shutdown_requested: false,
            active_expire_enabled: true,
            last_save_unix: now / 1000,
            tcp_port: 0,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            lru_clock: (now / 1000) as u32,
            propagator: Default::default(),
            aof: None,
            aof_state: Default::default(),
            repl: crate::replication::Replication::new(replid),
            notify: Default::default(),
            tracking: Default::default(),
            loading: None,
        }
    }

    /// Whether the calling client must authenticate first.
    pub fn auth_required(&self) -> bool {
        self.acl.auth_required()
    }
}
