//! shoal-server: a Redis 7 compatible node.
//!
//! Layout:
//! - [`acl`]: ACL users, their rules and the permission check.
//! - [`server`]: the engine state ([`server::Server`]) that one thread owns.
//! - [`net`]: the event loop (accept, read, run, write) and the periodic cron.
//! - [`client`]: a connection's buffers and session state.
//! - [`blocking`]: clients parked by blocking commands, and the keys they wait on.
//! - [`dispatch`]: running one command with Redis's checks and bookkeeping.
//! - [`commands`]: the command table and the implementations, one file per group.
//! - [`pubsub`]: channel, pattern and shard-channel subscriptions.
//! - [`stats`]: counters for INFO, SLOWLOG and LATENCY.
//! - [`watch`]: WATCHed keys of optimistic transactions.
//! - [`evict`]: memory in use, maxmemory eviction, LFU counters.
//! - [`log`]: Redis-format logging.
//! - [`clock`]: a cheap monotonic clock for timing commands.
//! - [`snapshot`]: BGSAVE without fork (incremental copy-before-write snapshots).
//! - [`startup`]: from argv to a running server (config, daemonize, pidfile).
//! - [`propagate`]: the effects stream of executed commands, for the AOF and replicas.
//! - [`alloc`]: the global allocator (jemalloc, 8-byte quantum).
//! - [`aof`]: the append-only file.
//! - [`loading`]: loading the RDB at start-up while answering `-LOADING`.
//! - [`notify`]: keyspace notifications (`notify-keyspace-events`).
//! - [`replication`]: replication IDs, offsets, the backlog and the replica stream.
//! - [`tracking`]: client-side caching (CLIENT TRACKING) and its invalidations.

pub mod acl;
pub mod alloc;
pub mod aof;
pub mod blocking;
pub mod client;
pub mod clock;
pub mod commands;
pub mod dispatch;
pub mod evict;
pub mod loading;
pub mod log;
pub mod net;
pub mod notify;
pub mod propagate;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod snapshot;
pub mod startup;
pub mod stats;
pub mod tracking;
pub mod watch;
