//! Client-side caching support: CLIENT TRACKING, as Redis 7.0 does it.
//!
//! Default mode: after a read-only command, the keys it named are remembered
//! for the (top-level) client that ran it, in one table shared by every
//! database: key -> ids of clients that may cache it. Any change of the key
//! (a write by any client, expiry, eviction) sends one invalidation to each of
//! those clients and forgets the entry. FLUSHALL/FLUSHDB send a null
//! invalidation to every tracking client and forget everything.
//!
//! BCAST mode: clients subscribe to key prefixes ("" = every key); changed
//! keys are collected per prefix and sent once per event-loop turn
//! ([`before_sleep`]), sorted, as Redis's radix tree keeps them.
//!
//! Delivery: RESP3 clients get `>2 invalidate <keys>` pushes; with REDIRECT
//! the messages go to another client instead, as a push when it speaks RESP3
//! or as a Pub/Sub `message` on `__redis__:invalidate` when it is a RESP2
//! subscriber. A redirect target that is gone marks the redirect broken and
//! (RESP3) tells the tracking client `tracking-redir-broken` each time an
//! invalidation could not be delivered.
//!
//! Ordering matches Redis: invalidations a client causes for its own cache
//! while running a command are sent after that command's reply (after the
//! whole EXEC or script); output for the running client caused by other
//! tracking clients (a redirect to it) goes where Redis writes it, before the
//! reply of the command that changed the key.
//!
//! Everything is keyed by client id and lives here, so the client running a
//! command (taken out of the client table) and script clients need no
//! special access. When no client has ever turned tracking on (or all are
//! gone and the table is empty) the hooks cost one branch.

use crate::client::ClientState;
use crate::commands::{eq_ic, flag, CommandSpec, Ctx};
use crate::server::Server;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A client's tracking mode (present while tracking is on).
#[derive(Clone, Debug, Default)]
pub struct ClientTracking {
    /// Client id the invalidations go to; 0 = this client.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING given for the next command (or transaction).
    pub caching: bool,
    pub broken_redirect: bool,
    /// BCAST prefixes, sorted as Redis lists them.
    pub prefixes: BTreeSet<Vec<u8>>,
}

/// One BCAST prefix: who listens, and keys changed since the last broadcast
/// with the id of the client that changed each (0: the server itself).
#[derive(Default)]
struct Prefix {
    keys: BTreeMap<Vec<u8>, u64>,
    clients: BTreeSet<u64>,
}

#[derive(Default)]
pub struct Tracking {
    clients: HashMap<u64, ClientTracking>,
    /// key -> ids of clients that read it (default mode).
    table: HashMap<Vec<u8>, Vec<u64>>,
    /// Sum of the id lists' lengths (`tracking_total_items`).
    items: usize,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Whether some prefix has keys waiting for [`before_sleep`].
    bcast_pending: bool,
    /// The top-level client running a command (0: none).
    caller: u64,
    /// What the caller's connection speaks: RESP3, and RESP2 Pub/Sub context.
    caller_resp3: bool,
    caller_subscribed: bool,
    /// Output for the caller, to go before the reply of the running command.
    early: Vec<u8>,
    /// Invalidations of the caller's own cache, sent after its command
    /// (None: a flush).
    late: Vec<Option<Vec<u8>>>,
    /// Keys lazily expired while the current command ran.
    expired: Vec<Vec<u8>>,
    /// The keys the caller's running script command declared (EVAL, FCALL...).
    script_keys: Vec<Vec<u8>>,
    /// Consecutive rounds that left the table over `tracking-table-max-keys`.
    evict_rounds: u64,
}

const PUBSUB_HEADER: &[u8] = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
const PUSH_HEADER: &[u8] = b">2\r\n$10\r\ninvalidate\r\n";

impl Tracking {
    /// Whether any hook has work: a tracking client, or remembered keys.
    #[inline]
    pub fn active(&self) -> bool {
        !(self.clients.is_empty() && self.table.is_empty())
    }

    pub fn get(&self, id: u64) -> Option<&ClientTracking> {
        self.clients.get(&id)
    }

    /// `tracking_clients`.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// `tracking_total_keys`.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// `tracking_total_items`.
    pub fn total_items(&self) -> usize {
        self.items
    }

    /// `tracking_total_prefixes`.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// A key was lazily expired by the running command (see `commands::lookup`).
    #[inline]
    pub fn note_expired(&mut self, key: &[u8]) {
        if self.active() {
            self.expired.push(key.to_vec());
        }
    }

    fn remember(&mut self, id: u64, key: &[u8]) {
        let ids = match self.table.get_mut(key) {
            Some(ids) => ids,
            None => self.table.entry(key.to_vec()).or_default(),
        };
        if !ids.contains(&id) {
            ids.push(id);
            self.items += 1;
        }
    }

    fn add_prefix(&mut self, id: u64, prefix: &[u8]) {
        let p = self.prefixes.entry(prefix.to_vec()).or_default();
        if p.clients.insert(id) {
            if let Some(t) = self.clients.get_mut(&id) {
                t.prefixes.insert(prefix.to_vec());
            }
        }
    }

    /// Turns tracking off for a client (CLIENT TRACKING OFF, RESET, close).
    /// Its entries in the key table stay until those keys change, as in Redis.
    pub fn disable(&mut self, id: u64) {
        let Some(t) = self.clients.remove(&id) else {
            return;
        };
        for prefix in &t.prefixes {
            if let Some(p) = self.prefixes.get_mut(prefix) {
                p.clients.remove(&id);
                if p.clients.is_empty() {
                    self.prefixes.remove(prefix);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Delivery

/// Where a message for client `id` goes: the running caller's pending output,
/// or the client's own output buffer.
fn write_to(srv: &mut Server, id: u64, bytes: &[u8]) {
    if id != 0 && id == srv.tracking.caller {
        srv.tracking.early.extend_from_slice(bytes);
        return;
    }
    if let Some(idx) = srv.clients.index_of(id) {
        if let Some(c) = srv.clients.get_mut(idx) {
            c.state.out.raw(bytes);
            srv.pending_writes.push(idx);
        }
    }
}

/// (speaks RESP3, is in the RESP2 Pub/Sub context) of a connected client.
fn conn_kind(srv: &Server, id: u64) -> Option<(bool, bool)> {
    if id != 0 && id == srv.tracking.caller {
        return Some((srv.tracking.caller_resp3, srv.tracking.caller_subscribed));
    }
    let idx = srv.clients.index_of(id)?;
    let c = srv.clients.get(idx)?;
    Some((c.state.out.is_resp3(), c.state.subscribed()))
}

/// What an invalidation carries.
enum Payload<'a> {
    Key(&'a [u8]),
    /// Already encoded (a BCAST key array).
    Raw(&'a [u8]),
    /// A flush: the null of the tracking client's protocol.
    Null,
}

/// Sends one invalidation for tracking client `id` (Redis's
/// `sendTrackingMessage`).
fn send_message(srv: &mut Server, id: u64, payload: Payload) {
    let Some(t) = srv.tracking.clients.get_mut(&id) else {
        return;
    };
    let redirect = t.redirect;
    let Some((own_resp3, _)) = conn_kind(srv, id) else {
        return;
    };
    let mut dest = id;
    if redirect != 0 {
        if srv.clients.index_of(redirect).is_none() {
            if let Some(t) = srv.tracking.clients.get_mut(&id) {
                t.broken_redirect = true;
            }
            if own_resp3 {
                let mut msg = b">2\r\n$21\r\ntracking-redir-broken\r\n".to_vec();
                msg.push(b':');
                msg.extend_from_slice(redirect.to_string().as_bytes());
                msg.extend_from_slice(b"\r\n");
                write_to(srv, id, &msg);
            }
            return;
        }
        dest = redirect;
    }
    let Some((resp3, subscribed)) = conn_kind(srv, dest) else {
        return;
    };
    let mut msg = Vec::with_capacity(64);
    if resp3 {
        msg.extend_from_slice(PUSH_HEADER);
    } else if redirect != 0 && subscribed {
        msg.extend_from_slice(PUBSUB_HEADER);
    } else {
        // RESP2 without a subscribed redirect target: nowhere to send it.
        return;
    }
    match payload {
        Payload::Key(k) => {
            msg.extend_from_slice(b"*1\r\n$");
            msg.extend_from_slice(k.len().to_string().as_bytes());
            msg.extend_from_slice(b"\r\n");
            msg.extend_from_slice(k);
            msg.extend_from_slice(b"\r\n");
        }
        Payload::Raw(p) => msg.extend_from_slice(p),
        // Like Redis, the null is the tracking client's, whatever the target speaks.
        Payload::Null => msg.extend_from_slice(if own_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
    }
    write_to(srv, dest, &msg);
}

/// A key changed: invalidate it for the clients that read it, and record it
/// for BCAST prefixes (Redis's `trackingInvalidateKey`). `writer` is the
/// client whose command changed it (0: expiry, eviction); `executing` tells
/// whether a command is running (its own invalidations then wait for its end).
fn invalidate_key(srv: &mut Server, key: &[u8], writer: u64, executing: bool, bcast: bool) {
    if bcast && !srv.tracking.prefixes.is_empty() {
        let mut any = false;
        for (prefix, p) in srv.tracking.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                p.keys.insert(key.to_vec(), writer);
                any = true;
            }
        }
        srv.tracking.bcast_pending |= any;
    }
    let Some(mut ids) = srv.tracking.table.remove(key) else {
        return;
    };
    srv.tracking.items -= ids.len();
    // Redis walks the ids in the byte order of their in-memory (little-endian) form.
    ids.sort_unstable_by_key(|id| id.to_le_bytes());
    let caller = srv.tracking.caller;
    for id in ids {
        let Some(t) = srv.tracking.clients.get(&id) else {
            continue;
        };
        if t.bcast || (t.noloop && id == caller) {
            continue;
        }
        if id == caller && executing {
            srv.tracking.late.push(Some(key.to_vec()));
        } else {
            send_message(srv, id, Payload::Key(key));
        }
    }
}

/// FLUSHALL / FLUSHDB: a null invalidation to every tracking client, and the
/// table forgets every key.
fn invalidate_all(srv: &mut Server) {
    let mut ids: Vec<u64> = srv.tracking.clients.keys().copied().collect();
    ids.sort_unstable();
    let caller = srv.tracking.caller;
    for id in ids {
        if id == caller {
            srv.tracking.late.push(None);
        } else {
            send_message(srv, id, Payload::Null);
        }
    }
    srv.tracking.table = HashMap::new();
    srv.tracking.items = 0;
}

/// A key the server deleted by itself (active expiry, eviction): called from
/// `propagate::propagate_deletion`.
pub fn key_deleted(srv: &mut Server, key: &[u8]) {
    if srv.tracking.active() {
        invalidate_key(srv, key, 0, false, true);
    }
}

/// `tracking-table-max-keys`: invalidates keys until the table fits, with an
/// effort that grows while it keeps not fitting (Redis picks keys at random;
/// here they come in hash order).
fn limit_table(srv: &mut Server) {
    let max = srv.config.tracking_table_max_keys as usize;
    let len = srv.tracking.table.len();
    if max == 0 || len <= max {
        srv.tracking.evict_rounds = 0;
        return;
    }
    let effort = 100 * (srv.tracking.evict_rounds as usize + 1);
    let victims: Vec<Vec<u8>> = srv.tracking.table.keys().take(effort.min(len - max)).cloned().collect();
    for key in victims {
        invalidate_key(srv, &key, 0, false, false);
    }
    if srv.tracking.table.len() <= max {
        srv.tracking.evict_rounds = 0;
    } else {
        srv.tracking.evict_rounds += 1;
    }
}

// ---------------------------------------------------------------------------
// Hooks

/// Before a command (dispatch `execute`). At the top level: who runs it, and
/// the table limit (Redis checks it in `processCommand`). A script command of
/// the caller (also inside EXEC): the keys it declares, which Redis 7.0
/// remembers whenever the script runs a read-only command.
pub fn before_execute(srv: &mut Server, c: &ClientState, args: &[&[u8]]) {
    if srv.propagator.at_top() {
        srv.tracking.caller = c.id;
        srv.tracking.caller_resp3 = c.out.is_resp3();
        srv.tracking.caller_subscribed = c.subscribed();
        srv.tracking.script_keys.clear();
        if !srv.tracking.clients.is_empty() {
            limit_table(srv);
        }
    }
    if c.id == srv.tracking.caller && is_script_command(args[0]) {
        srv.tracking.script_keys = srv
            .commands
            .get(args[0])
            .and_then(|spec| spec.all_key_positions(args))
            .unwrap_or_default()
            .into_iter()
            .map(|p| args[p].to_vec())
            .collect();
    }
}

/// Positions of the keys a write command changes, in the order Redis signals
/// them: store-style commands change their destination only, COPY and
/// SORT ... STORE not their source; list moves push before they pop.
fn written_positions(spec: &CommandSpec, args: &[&[u8]]) -> Vec<usize> {
    let mut positions = spec.all_key_positions(args).unwrap_or_default();
    match spec.name {
        "sunionstore" | "sinterstore" | "sdiffstore" | "zunionstore" | "zinterstore" | "zdiffstore" | "bitop"
        | "zrangestore" | "geosearchstore" | "pfmerge" => positions.truncate(1),
        "copy" | "sort" | "georadius" | "georadiusbymember" if !positions.is_empty() => {
            positions.remove(0);
        }
        "rpoplpush" | "brpoplpush" | "lmove" | "blmove" => positions.reverse(),
        _ => {}
    }
    positions
}

fn is_script_command(name: &[u8]) -> bool {
    ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]
        .iter()
        .any(|n| eq_ic(name, n))
}

/// Whether reads by client `id` are remembered now: tracking in default
/// mode, and its OPTIN/OPTOUT mode and CLIENT CACHING agree.
fn wants_keys(srv: &Server, id: u64) -> bool {
    srv.tracking
        .clients
        .get(&id)
        .is_some_and(|t| !(t.bcast || (t.optin && !t.caching) || (t.optout && t.caching)))
}

/// Remembers the keys of `args` for tracking client `id`, unless its
/// OPTIN/OPTOUT mode says not to (Redis's `trackingRememberKeys`).
fn remember_keys(srv: &mut Server, id: u64, spec: &CommandSpec, args: &[&[u8]]) {
    if !wants_keys(srv, id) || spec.has(flag::PUBSUB) {
        return;
    }
    for p in spec.all_key_positions(args).unwrap_or_default() {
        srv.tracking.remember(id, args[p]);
    }
}

/// After a command's handler ran (dispatch `run`). `out_before` is where its
/// reply starts in `c.out`.
pub fn after_command(srv: &mut Server, spec: &CommandSpec, c: &mut ClientState, args: &[&[u8]], out_before: usize) {
    let caller = srv.tracking.caller;
    let own = c.id == caller;
    if own {
        srv.tracking.caller_resp3 = c.out.is_resp3();
        srv.tracking.caller_subscribed = c.subscribed();
    }
    for key in std::mem::take(&mut srv.tracking.expired) {
        invalidate_key(srv, &key, 0, true, true);
    }
    let changed_nothing = matches!(&c.effects, Some(e) if e.is_empty());
    if spec.has(flag::WRITE) && c.block_request.is_none() && !c.out.has_errors() && !changed_nothing {
        if matches!(spec.name, "flushall" | "flushdb") {
            invalidate_all(srv);
        } else {
            for p in written_positions(spec, args) {
                invalidate_key(srv, args[p], c.id, true, true);
            }
        }
    }
    // A parked command run again when its keys got data (Redis 7.0 serves
    // those without running the command again) remembers nothing new.
    if spec.has(flag::READONLY) && c.blocked.is_none() {
        if own {
            if !matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
                remember_keys(srv, caller, spec, args);
            }
        } else if !srv.tracking.script_keys.is_empty() {
            // Redis 7.0 remembers, for a read inside a script, the keys of
            // the caller's own command (the script's declared keys).
            let keys = std::mem::take(&mut srv.tracking.script_keys);
            if wants_keys(srv, caller) {
                for k in &keys {
                    srv.tracking.remember(caller, k);
                }
            }
            srv.tracking.script_keys = keys;
        }
    }
    // Output other tracking clients sent this one (redirected to it) goes
    // where Redis writes it: before the reply of the command that caused it.
    if own && !srv.tracking.early.is_empty() {
        let at = out_before.min(c.out.buf.len());
        let early = std::mem::take(&mut srv.tracking.early);
        c.out.buf.splice(at..at, early);
    }
}

/// After every command a client sent (dispatch `execute`): at the top level,
/// sends the caller's own invalidations after its reply and ends CLIENT
/// CACHING's one-command scope.
pub fn after_execute(srv: &mut Server, c: &mut ClientState, args: &[&[u8]], out_mark: usize) {
    if !srv.propagator.at_top() || c.id != srv.tracking.caller {
        return;
    }
    if !srv.tracking.early.is_empty() {
        let at = out_mark.min(c.out.buf.len());
        let early = std::mem::take(&mut srv.tracking.early);
        c.out.buf.splice(at..at, early);
    }
    srv.tracking.caller_resp3 = c.out.is_resp3();
    srv.tracking.caller_subscribed = c.subscribed();
    for key in std::mem::take(&mut srv.tracking.late) {
        match key {
            Some(k) => send_message(srv, c.id, Payload::Key(&k)),
            None => send_message(srv, c.id, Payload::Null),
        }
    }
    let early = std::mem::take(&mut srv.tracking.early);
    c.out.raw(&early);
    // CLIENT CACHING lasts for the next command, or the next transaction; any
    // CLIENT subcommand keeps it (Redis compares the command procedure).
    if let Some(t) = srv.tracking.clients.get_mut(&c.id) {
        if t.caching && c.multi.is_none() {
            let client_cmd = args.len() >= 2
                && eq_ic(args[0], "client")
                && srv
                    .commands
                    .get(args[0])
                    .is_some_and(|spec| crate::commands::find_subcommand(spec, args[1]).is_some());
            if !client_cmd {
                if let Some(t) = srv.tracking.clients.get_mut(&c.id) {
                    t.caching = false;
                }
            }
        }
    }
    srv.tracking.script_keys.clear();
    srv.tracking.caller = 0;
}

/// Each event-loop turn, before replies are written: BCAST invalidations
/// collected during the turn, and the table limit (Redis's cron check).
pub fn before_sleep(srv: &mut Server) {
    if !srv.tracking.active() {
        return;
    }
    srv.tracking.caller = 0;
    if !srv.tracking.clients.is_empty() {
        limit_table(srv);
    }
    if !std::mem::take(&mut srv.tracking.bcast_pending) {
        return;
    }
    // (changed keys -> who changed them, listening clients) per prefix
    type Batch = (BTreeMap<Vec<u8>, u64>, Vec<u64>);
    let mut batches: Vec<Batch> = Vec::new();
    for p in srv.tracking.prefixes.values_mut() {
        if !p.keys.is_empty() {
            batches.push((std::mem::take(&mut p.keys), p.clients.iter().copied().collect()));
        }
    }
    for (keys, clients) in batches {
        let all = encode_keys(keys.keys().map(|k| k.as_slice()));
        for id in clients {
            let noloop = srv.tracking.clients.get(&id).is_some_and(|t| t.noloop);
            if noloop {
                let mine: Vec<&[u8]> = keys
                    .iter()
                    .filter(|(_, &w)| w != id)
                    .map(|(k, _)| k.as_slice())
                    .collect();
                if !mine.is_empty() {
                    let adhoc = encode_keys(mine.into_iter());
                    send_message(srv, id, Payload::Raw(&adhoc));
                }
            } else {
                send_message(srv, id, Payload::Raw(&all));
            }
        }
    }
}

fn encode_keys<'a>(keys: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = format!("*{}\r\n", keys.len()).into_bytes();
    for k in keys {
        out.push(b'$');
        out.extend_from_slice(k.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(k);
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO

/// The bytes before the first NUL, as Redis's `%s` prints them.
fn c_str(a: &[u8]) -> String {
    String::from_utf8_lossy(crate::dispatch::until_nul(a)).into_owned()
}

/// Redis's prefix overlap test: one is a prefix of the other.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut redirect: i64 = 0;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = args[j];
        if eq_ic(a, "redirect") && more {
            j += 1;
            if redirect != 0 {
                ctx.out()
                    .error("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = crate::commands::int_arg(ctx, args[j]) else {
                return;
            };
            redirect = id;
            let exists = id == ctx.client.id as i64 || (id > 0 && ctx.srv.clients.index_of(id as u64).is_some());
            if !exists {
                ctx.out().error("ERR The client ID you want redirect to does not exist");
                return;
            }
        } else if eq_ic(a, "bcast") {
            bcast = true;
        } else if eq_ic(a, "optin") {
            optin = true;
        } else if eq_ic(a, "optout") {
            optout = true;
        } else if eq_ic(a, "noloop") {
            noloop = true;
        } else if eq_ic(a, "prefix") && more {
            j += 1;
            prefixes.push(args[j]);
        } else {
            ctx.out().error(crate::commands::err::SYNTAX);
            return;
        }
        j += 1;
    }
    let id = ctx.client.id;
    if eq_ic(args[2], "off") {
        ctx.srv.tracking.disable(id);
        ctx.out().ok();
        return;
    }
    if !eq_ic(args[2], "on") {
        ctx.out().error(crate::commands::err::SYNTAX);
        return;
    }
    if !bcast && !prefixes.is_empty() {
        ctx.out().error("ERR PREFIX option requires BCAST mode to be enabled");
        return;
    }
    let current = ctx.srv.tracking.clients.get(&id).cloned();
    if let Some(cur) = &current {
        if cur.bcast != bcast {
            ctx.out().error(
                "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then \
                 re-enabling it with a different mode.",
            );
            return;
        }
    }
    if bcast && (optin || optout) {
        ctx.out().error("ERR OPTIN and OPTOUT are not compatible with BCAST");
        return;
    }
    if optin && optout {
        ctx.out().error("ERR You can't specify both OPTIN mode and OPTOUT mode");
        return;
    }
    if let Some(cur) = &current {
        if (optin && cur.optout) || (optout && cur.optin) {
            ctx.out().error(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then \
                 re-enabling it with a different mode.",
            );
            return;
        }
    }
    if bcast {
        let existing: Vec<Vec<u8>> = current
            .as_ref()
            .map(|c| c.prefixes.iter().cloned().collect())
            .unwrap_or_default();
        'check: for (i, p) in prefixes.iter().enumerate() {
            if let Some(e) = existing.iter().find(|e| overlaps(e, p)) {
                ctx.out().error(&format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not \
                     overlap.",
                    c_str(p),
                    c_str(e)
                ));
                return;
            }
            for q in &prefixes[i + 1..] {
                if overlaps(p, q) {
                    ctx.out().error(&format!(
                        "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client \
                         must not overlap.",
                        c_str(p),
                        c_str(q)
                    ));
                    // Redis 7.0 only gives up when the first prefix collides;
                    // past it the error is sent and tracking is enabled anyway.
                    if i == 0 {
                        return;
                    }
                    break 'check;
                }
            }
        }
    }
    let tr = &mut ctx.srv.tracking;
    let t = tr.clients.entry(id).or_default();
    t.broken_redirect = false;
    t.redirect = redirect as u64;
    t.bcast = bcast;
    t.optin = optin;
    t.optout = optout;
    t.noloop = noloop;
    if bcast {
        if prefixes.is_empty() {
            tr.add_prefix(id, b"");
        }
        for p in &prefixes {
            tr.add_prefix(id, p);
        }
    }
    // This command runs at the top level: reads later in the same
    // transaction belong to this client.
    tr.caller = id;
    tr.caller_resp3 = ctx.client.out.is_resp3();
    tr.caller_subscribed = ctx.client.subscribed();
    ctx.out().ok();
}

/// CLIENT CACHING YES|NO
pub fn client_caching(ctx: &mut Ctx, args: &[&[u8]]) {
    let id = ctx.client.id;
    let Some(t) = ctx.srv.tracking.clients.get_mut(&id) else {
        ctx.out().error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode \
             enabled",
        );
        return;
    };
    if eq_ic(args[2], "yes") {
        if !t.optin {
            ctx.out()
                .error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
        t.caching = true;
    } else if eq_ic(args[2], "no") {
        if !t.optout {
            ctx.out()
                .error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
        t.caching = true;
    } else {
        ctx.out().error(crate::commands::err::SYNTAX);
        return;
    }
    ctx.out().ok();
}

/// CLIENT GETREDIR
pub fn client_getredir(ctx: &mut Ctx, _args: &[&[u8]]) {
    let redir = redirect_of(ctx.srv.tracking.get(ctx.client.id));
    ctx.out().int(redir);
}

/// The `redir=` of CLIENT LIST and GETREDIR: -1 when not tracking.
pub fn redirect_of(t: Option<&ClientTracking>) -> i64 {
    t.map_or(-1, |t| t.redirect as i64)
}

/// CLIENT TRACKINGINFO
pub fn client_trackinginfo(ctx: &mut Ctx, _args: &[&[u8]]) {
    let t = ctx.srv.tracking.get(ctx.client.id).cloned();
    let mut flags: Vec<&str> = Vec::new();
    match &t {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken_redirect {
                flags.push("broken_redirect");
            }
        }
    }
    let out = ctx.out();
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(redirect_of(t.as_ref()));
    out.bulk(b"prefixes");
    match &t {
        Some(t) => {
            out.array(t.prefixes.len());
            for p in &t.prefixes {
                out.bulk(p);
            }
        }
        None => out.array(0),
    }
}

/// CLIENT LIST flag letters for tracking (`t`, `R`, `B`).
pub fn list_flags(t: Option<&ClientTracking>, f: &mut String) {
    if let Some(t) = t {
        f.push('t');
        if t.broken_redirect {
            f.push('R');
        }
        if t.bcast {
            f.push('B');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_overlap_is_either_way() {
        assert!(overlaps(b"a", b"ab"));
        assert!(overlaps(b"ab", b"a"));
        assert!(overlaps(b"", b"x"));
        assert!(overlaps(b"b", b"b"));
        assert!(!overlaps(b"ab", b"ac"));
    }

    #[test]
    fn broadcast_arrays_are_resp_arrays() {
        let keys: Vec<&[u8]> = vec![b"a0", b"a1"];
        assert_eq!(encode_keys(keys.into_iter()), b"*2\r\n$2\r\na0\r\n$2\r\na1\r\n");
    }

    #[test]
    fn table_counts_items_once_per_client() {
        let mut t = Tracking::default();
        t.clients.insert(7, ClientTracking::default());
        t.remember(7, b"k");
        t.remember(7, b"k");
        t.remember(8, b"k");
        t.remember(7, b"j");
        assert_eq!((t.total_keys(), t.total_items()), (2, 3));
        t.disable(7);
        assert!(t.active(), "entries outlive the client's tracking");
    }
}
