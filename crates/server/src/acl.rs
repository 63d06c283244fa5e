//! ACL users and permission checks, with Redis 7.0's semantics.
//!
//! A user has flags (on/off, nopass, payload sanitizing), password hashes
//! (SHA-256 hex) and one root *selector* plus any number of extra selectors.
//! A selector allows commands (a bitmap over every command and subcommand of
//! the command table, plus one "future commands" bit that only `+@all` sets),
//! key patterns with read/write permissions, and channel patterns. A command
//! is allowed when any selector allows it with all its keys and channels.
//!
//! The `default` user starts as `on nopass ~* &* +@all`; `requirepass`
//! replaces its passwords. While its root selector allows everything,
//! [`Acl::unrestricted`] lets dispatch skip the check with one string
//! comparison.
//!
//! Rule strings (ACL LIST, GETUSER, SAVE) are rebuilt from the bitmap the way
//! Redis does it: `+@all`/`-@all`, then the best-fitting categories, then
//! single commands. Redis emits those single commands in its command
//! dictionary's hash order (random per process); shoal uses the command
//! table's order.

use crate::commands::{flag, CommandSpec, COMMANDS};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::OnceLock;

/// ACL categories, in Redis's order (ACL CAT lists them so).
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

// ---------------------------------------------------------------------------
// Command ids

/// Every command and subcommand of the table, numbered: a parent is followed
/// by its subcommands.
pub struct CmdIndex {
    pub specs: Vec<&'static CommandSpec>,
    parent: Vec<Option<usize>>,
    subs: Vec<Vec<usize>>,
    cats: Vec<u32>,
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    top: Vec<usize>,
}

impl CmdIndex {
    /// The bit only `+@all` sets: the user may run commands added later.
    fn future_bit(&self) -> usize {
        self.specs.len()
    }

    fn words(&self) -> usize {
        self.specs.len() / 64 + 1
    }

    /// A command id by full name (`get`, `client|list`), any case.
    fn lookup(&self, name: &[u8]) -> Option<usize> {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.by_name.get(lower.as_str()).copied()
    }

    pub fn id_of(&self, spec: &CommandSpec) -> Option<usize> {
        self.by_name.get(spec.name).copied()
    }
}

fn category_mask(spec: &CommandSpec) -> u32 {
    let mut mask = 0;
    for c in spec.acl_categories() {
        if let Some(i) = CATEGORIES.iter().position(|x| *x == c.trim_start_matches('@')) {
            mask |= 1 << i;
        }
    }
    mask
}

pub fn index() -> &'static CmdIndex {
    static INDEX: OnceLock<CmdIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut ix = CmdIndex {
            specs: Vec::new(),
            parent: Vec::new(),
            subs: Vec::new(),
            cats: Vec::new(),
            by_name: HashMap::default(),
            top: Vec::new(),
        };
        let add = |ix: &mut CmdIndex, spec: &'static CommandSpec, parent: Option<usize>| {
            let id = ix.specs.len();
            ix.specs.push(spec);
            ix.parent.push(parent);
            ix.subs.push(Vec::new());
            ix.cats.push(category_mask(spec));
            ix.by_name.insert(spec.name, id);
            id
        };
        for spec in COMMANDS.iter() {
            let id = add(&mut ix, spec, None);
            ix.top.push(id);
            for sub in spec.subcommands {
                let sid = add(&mut ix, sub, Some(id));
                ix.subs[id].push(sid);
            }
        }
        ix
    })
}

/// Full names of the commands in a category, parents before their subcommands.
pub fn category_commands(cat: usize) -> Vec<&'static str> {
    let ix = index();
    (0..ix.specs.len())
        .filter(|&id| ix.cats[id] & (1 << cat) != 0)
        .map(|id| ix.specs[id].name)
        .collect()
}

pub fn category_by_name(name: &[u8]) -> Option<usize> {
    CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name))
}

// ---------------------------------------------------------------------------
// Selectors and users

const PERM_R: u8 = 1;
const PERM_W: u8 = 2;
const PERM_ALL: u8 = PERM_R | PERM_W;

/// Why a rule was refused; the texts are Redis's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    Unknown,
    Syntax,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelsAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Selector {
    /// Set by `+@all`, cleared as soon as any command bit is cleared.
    allcommands: bool,
    bits: Vec<u64>,
    /// Allowed first arguments of otherwise denied commands (`+select|0`).
    firstargs: BTreeMap<usize, Vec<Vec<u8>>>,
    allkeys: bool,
    patterns: Vec<(Vec<u8>, u8)>,
    allchannels: bool,
    channels: Vec<Vec<u8>>,
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

fn is_hash(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Selector {
    fn new(allchannels: bool) -> Selector {
        Selector {
            allcommands: false,
            bits: vec![0; index().words()],
            firstargs: BTreeMap::new(),
            allkeys: false,
            patterns: Vec::new(),
            allchannels,
            channels: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.bits[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.bits[id / 64] |= 1 << (id % 64);
        } else {
            self.bits[id / 64] &= !(1 << (id % 64));
            self.allcommands = false;
        }
    }

    /// Allows or denies a command; a container takes its subcommands along.
    fn change_perm(&mut self, id: usize, allow: bool) {
        let ix = index();
        self.set_bit(id, allow);
        self.firstargs.remove(&id);
        for &sub in &ix.subs[id] {
            self.set_bit(sub, allow);
        }
    }

    fn set_category(&mut self, cat: usize, allow: bool) {
        let ix = index();
        for id in 0..ix.specs.len() {
            if ix.cats[id] & (1 << cat) != 0 {
                self.change_perm(id, allow);
            }
        }
    }

    fn set_all_commands(&mut self, allow: bool) {
        for w in self.bits.iter_mut() {
            *w = if allow { u64::MAX } else { 0 };
        }
        self.allcommands = allow;
        self.firstargs.clear();
    }

    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let ix = index();
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || is("~*") {
            self.allkeys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all_commands(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all_commands(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::KeysAfterAll);
            }
            let mut perm = 0;
            let mut at = 1;
            if op[0] == b'%' {
                while at < op.len() {
                    let c = op[at].to_ascii_uppercase();
                    if c == b'R' && perm & PERM_R == 0 {
                        perm |= PERM_R;
                    } else if c == b'W' && perm & PERM_W == 0 {
                        perm |= PERM_W;
                    } else if op[at] == b'~' {
                        at += 1;
                        break;
                    } else {
                        return Err(RuleError::Syntax);
                    }
                    at += 1;
                }
                if perm == 0 {
                    return Err(RuleError::Syntax);
                }
            } else {
                perm = PERM_ALL;
            }
            let pat = &op[at.min(op.len())..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|(p, _)| p == pat) {
                Some((_, f)) => *f |= perm,
                None => self.patterns.push((pat.to_vec(), perm)),
            }
            self.allkeys = false;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.allchannels = false;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let body = &op[1..];
            match body.iter().rposition(|&b| b == b'|') {
                None => {
                    let id = ix.lookup(body).ok_or(RuleError::Unknown)?;
                    self.change_perm(id, true);
                }
                Some(bar) => {
                    let (cmd, sub) = (&body[..bar], &body[bar + 1..]);
                    let id = ix.lookup(cmd).ok_or(RuleError::Unknown)?;
                    if ix.parent[id].is_some() {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !ix.subs[id].is_empty() {
                        let sid = ix.lookup(body).ok_or(RuleError::Unknown)?;
                        self.change_perm(sid, true);
                    } else {
                        let list = self.firstargs.entry(id).or_default();
                        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                            list.push(sub.to_vec());
                        }
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let id = ix.lookup(&op[1..]).ok_or(RuleError::Unknown)?;
            self.change_perm(id, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let cat = category_by_name(&op[2..]).ok_or(RuleError::Unknown)?;
            self.set_category(cat, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn keys_text(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let parts: Vec<String> = self
            .patterns
            .iter()
            .map(|(p, f)| {
                let prefix = match *f {
                    PERM_R => "%R~",
                    PERM_W => "%W~",
                    _ => "~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(p))
            })
            .collect();
        parts.join(" ")
    }

    fn channels_text(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        let parts: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        parts.join(" ")
    }

    /// The command rules that rebuild this selector's bitmap.
    fn commands_text(&self) -> String {
        let ix = index();
        let n = ix.specs.len();
        let additive = !self.bit(ix.future_bit());
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(false);
        fake.set_all_commands(!additive);
        let mut temp = self.bits.clone();
        let temp_bit = |t: &Vec<u64>, id: usize| t[id / 64] & (1 << (id % 64)) != 0;
        let mut applied = [false; 21];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0usize);
            for (j, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let (mut on, mut off) = (0usize, 0usize);
                for id in 0..n {
                    if ix.cats[id] & (1 << j) != 0 {
                        if temp_bit(&temp, id) {
                            on += 1;
                        } else {
                            off += 1;
                        }
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.set_category(j, additive);
            // The inverse on the working copy, so the next round sees what is left.
            let mut t = Selector::new(false);
            t.bits = temp;
            t.set_category(j, !additive);
            temp = t.bits;
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(CATEGORIES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        let single = |id: usize, rules: &mut String, fake: &mut Selector| {
            let mine = self.bit(id);
            if mine != fake.bit(id) {
                rules.push(if mine { '+' } else { '-' });
                rules.push_str(ix.specs[id].name);
                rules.push(' ');
                fake.change_perm(id, mine);
            }
        };
        for &id in &ix.top {
            single(id, &mut rules, &mut fake);
            for &sub in &ix.subs[id] {
                single(sub, &mut rules, &mut fake);
            }
            if !self.bit(id) {
                if let Some(args) = self.firstargs.get(&id) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(ix.specs[id].name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    /// Keys, channels and commands, as ACL LIST shows a selector.
    fn describe(&self) -> String {
        let mut s = String::new();
        if self.allkeys {
            s.push_str("~* ");
        } else if !self.patterns.is_empty() {
            s.push_str(&self.keys_text());
            s.push(' ');
        }
        if self.allchannels {
            s.push_str("&* ");
        } else {
            s.push_str("resetchannels ");
            for c in &self.channels {
                s.push('&');
                s.push_str(&String::from_utf8_lossy(c));
                s.push(' ');
            }
        }
        s.push_str(&self.commands_text());
        s
    }

    fn unrestricted(&self) -> bool {
        self.allcommands && self.allkeys && self.allchannels
    }

    /// Checks one command against this selector: Err((reason, argument index)).
    fn check(
        &self,
        id: usize,
        spec: &CommandSpec,
        args: &[&[u8]],
        keys: &[(usize, u8)],
    ) -> Result<(), (Denied, usize)> {
        if !self.allcommands && !spec.has(flag::NO_AUTH) && !self.bit(id) {
            let pos = if index().parent[id].is_some() { 2 } else { 1 };
            let ok = match (self.firstargs.get(&id), args.get(pos)) {
                (Some(list), Some(arg)) => list.iter().any(|a| a.eq_ignore_ascii_case(arg)),
                _ => false,
            };
            if !ok {
                return Err((Denied::Command, 0));
            }
        }
        if !self.allkeys {
            for &(pos, need) in keys {
                let key = args[pos];
                let ok = self
                    .patterns
                    .iter()
                    .any(|(p, f)| f & need == need && shoal_util::glob::glob_match(p, key, false));
                if !ok {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.allchannels {
            let (positions, is_pattern) = channel_positions(spec, args);
            for pos in positions {
                let ch = args[pos];
                let ok = self.channels.iter().any(|p| {
                    if is_pattern {
                        p == ch
                    } else {
                        shoal_util::glob::glob_match(p, ch, false)
                    }
                });
                if !ok {
                    return Err((Denied::Channel, pos));
                }
            }
        }
        Ok(())
    }
}

/// Why a command was denied (ordered as Redis picks the reason to report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

impl Denied {
    fn reason(self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key => "key",
            Denied::Auth => "auth",
            Denied::Channel => "channel",
        }
    }
}

/// Positions of the channel arguments the ACL checks, and whether they are
/// patterns (PSUBSCRIBE: compared literally with the user's patterns).
fn channel_positions(spec: &CommandSpec, args: &[&[u8]]) -> (std::ops::Range<usize>, bool) {
    match spec.name {
        "publish" | "spublish" => (1..2.min(args.len()), false),
        "subscribe" | "ssubscribe" => (1..args.len(), false),
        "psubscribe" => (1..args.len(), true),
        _ => (0..0, false),
    }
}

/// Write commands whose keys are also read (Redis's key-spec ACCESS flag),
/// beyond the read-modify-write ones handled in [`key_perms`].
const WRITE_READS: &[&str] = &[
    "getset",
    "getdel",
    "getex",
    "incr",
    "incrby",
    "decr",
    "decrby",
    "incrbyfloat",
    "lpop",
    "rpop",
    "blpop",
    "brpop",
    "lmpop",
    "blmpop",
    "spop",
    "zpopmin",
    "zpopmax",
    "bzpopmin",
    "bzpopmax",
    "zmpop",
    "bzmpop",
    "hincrby",
    "hincrbyfloat",
    "zincrby",
    "xautoclaim",
    "xclaim",
    "xreadgroup",
    "setbit",
    "bitfield",
    "move",
];

/// Read/write permission each key argument needs. Redis reads this from its
/// key specs; shoal's table has positions only, so write commands need write
/// access (and read access too when they return or read the stored value),
/// read-only commands need read access, and "store" commands read their
/// sources and write their destination.
fn key_perms(spec: &CommandSpec, args: &[&[u8]], positions: &[usize]) -> Vec<(usize, u8)> {
    if !spec.has(flag::WRITE) {
        return positions.iter().map(|&p| (p, PERM_R)).collect();
    }
    let name = spec.name;
    positions
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let perm = match name {
                // destination first, then sources
                "sunionstore" | "sinterstore" | "sdiffstore" | "zunionstore" | "zinterstore" | "zdiffstore"
                | "bitop" | "zrangestore" | "geosearchstore" => {
                    if i == 0 {
                        PERM_W
                    } else {
                        PERM_R
                    }
                }
                "pfmerge" => {
                    if i == 0 {
                        PERM_ALL
                    } else {
                        PERM_R
                    }
                }
                // source first (read and changed), then destination
                "rename" | "renamenx" | "lmove" | "blmove" | "rpoplpush" | "brpoplpush" | "smove" => {
                    if i == 0 {
                        PERM_ALL
                    } else {
                        PERM_W
                    }
                }
                "copy" | "sort" | "georadius" | "georadiusbymember" => {
                    if i == 0 {
                        PERM_R
                    } else {
                        PERM_W
                    }
                }
                "set" => {
                    if args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")) {
                        PERM_ALL
                    } else {
                        PERM_W
                    }
                }
                _ if WRITE_READS.contains(&name) => PERM_ALL,
                _ => PERM_W,
            };
            (p, perm)
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    enabled: bool,
    nopass: bool,
    /// 0: neither flag, 1: skip-sanitize-payload, 2: sanitize-payload.
    sanitize: u8,
    passwords: Vec<String>,
    root: Selector,
    selectors: Vec<Selector>,
}

impl User {
    fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: 0,
            passwords: Vec::new(),
            root: Selector::new(pubsub_all),
            selectors: Vec::new(),
        }
    }

    /// Applies one ACL SETUSER rule.
    pub fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = 1;
        } else if is("sanitize-payload") {
            self.sanitize = 2;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                shoal_util::sha256::hex_digest(&op[1..])
            } else {
                if !is_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                shoal_util::sha256::hex_digest(&op[1..])
            } else {
                if !is_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            match self.passwords.iter().position(|p| *p == hash) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut sel = Selector::new(pubsub_all);
            let inner = &op[1..op.len() - 1];
            for part in split_args(inner).unwrap_or_default() {
                sel.apply(&part)?;
            }
            self.selectors.push(sel);
        } else if is("clearselectors") {
            self.selectors.clear();
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            self.root.allkeys = false;
            self.root.patterns.clear();
            self.root.allchannels = pubsub_all;
            self.root.channels.clear();
            self.enabled = false;
            self.sanitize = 2;
            self.selectors.clear();
            self.root.set_all_commands(false);
        } else {
            self.root.apply(op)?;
        }
        Ok(())
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            1 => f.push("skip-sanitize-payload"),
            2 => f.push("sanitize-payload"),
            _ => {}
        }
        f
    }

    /// The rules in ACL LIST / ACL SAVE form (after `user <name> `).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for f in self.flags() {
            s.push_str(f);
            s.push(' ');
        }
        for p in &self.passwords {
            s.push('#');
            s.push_str(p);
            s.push(' ');
        }
        s.push_str(&self.root.describe());
        for sel in &self.selectors {
            s.push_str(" (");
            s.push_str(&sel.describe());
            s.push(')');
        }
        s
    }

    fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hash = shoal_util::sha256::hex_digest(pass);
        // Compare every stored hash fully, in time independent of the content.
        let mut ok = false;
        for p in &self.passwords {
            let diff = p.bytes().zip(hash.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b));
            ok |= diff == 0 && p.len() == hash.len();
        }
        ok
    }

    /// Checks a command against every selector, picking the reason Redis
    /// reports when all deny: a key or channel over a command, the last
    /// argument over an earlier one.
    pub fn check(&self, spec: &CommandSpec, args: &[&[u8]]) -> Result<(), (Denied, usize)> {
        let Some(id) = index().id_of(spec) else {
            return Ok(());
        };
        let all_keys = self.root.allkeys && self.selectors.iter().all(|s| s.allkeys);
        let keys = if spec.has(flag::PUBSUB) || all_keys {
            Vec::new()
        } else {
            let positions = spec.all_key_positions(args).unwrap_or_default();
            key_perms(spec, args, &positions)
        };
        let mut worst = (Denied::Command, 0);
        for sel in std::iter::once(&self.root).chain(self.selectors.iter()) {
            match sel.check(id, spec, args, &keys) {
                Ok(()) => return Ok(()),
                Err((d, pos)) => {
                    if d > worst.0 || (d == worst.0 && pos > worst.1) {
                        worst = (d, pos);
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether some selector allows the command and lets it read every key
    /// (`allkeys`, or a `*` pattern with read permission): what SORT needs
    /// for BY and GET patterns.
    pub fn full_key_read(&self, spec: &CommandSpec, args: &[&[u8]]) -> bool {
        let Some(id) = index().id_of(spec) else {
            return true;
        };
        let positions = spec.all_key_positions(args).unwrap_or_default();
        let keys = key_perms(spec, args, &positions);
        std::iter::once(&self.root).chain(self.selectors.iter()).any(|sel| {
            sel.check(id, spec, args, &keys).is_ok()
                && (sel.allkeys || sel.patterns.iter().any(|(p, f)| f & PERM_R != 0 && p == b"*"))
        })
    }

    /// Whether the user may still subscribe to a channel (or pattern).
    fn channel_allowed(upcoming: &[Vec<u8>], ch: &[u8], is_pattern: bool) -> bool {
        upcoming.iter().any(|p| {
            if is_pattern {
                p == ch
            } else {
                shoal_util::glob::glob_match(p, ch, false)
            }
        })
    }
}

/// Splits `a "b c" d` like Redis's sdssplitargs; None on unbalanced quotes.
pub fn split_args(s: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    let b = s;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if q == b'"' && c == b'\\' && i + 1 < b.len() {
                    i += 1;
                    let e = b[i];
                    if e == b'x' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
                        let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
                        cur.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    } else {
                        cur.push(match e {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                } else if q == b'\'' && c == b'\\' && b.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    cur.push(b'\'');
                } else if c == q {
                    // A closing quote must be followed by a space or the end.
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    quote = None;
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                } else {
                    cur.push(c);
                }
            }
            None => {
                if c.is_ascii_whitespace() {
                    if in_word {
                        out.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                } else if !in_word && (c == b'"' || c == b'\'') {
                    quote = Some(c);
                    in_word = true;
                } else {
                    in_word = true;
                    cur.push(c);
                }
            }
        }
        i += 1;
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// Joins selector rules given over several arguments (`(~k` `+get)`) into
/// one; Err(index of the opening argument) when a parenthesis is unmatched.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, &a) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some((i, a.to_vec()));
            continue;
        }
        out.push(a.to_vec());
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(out),
    }
}

// ---------------------------------------------------------------------------
// The ACL state of a server

/// One ACL LOG entry.
pub struct LogEntry {
    pub count: u64,
    pub reason: Denied,
    /// "toplevel", "multi", "lua".
    pub context: &'static str,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub ctime_ms: i64,
    pub client_info: String,
}

impl LogEntry {
    pub fn reason_name(&self) -> &'static str {
        self.reason.reason()
    }
}

pub struct Acl {
    users: BTreeMap<Vec<u8>, User>,
    pub log: VecDeque<LogEntry>,
    /// The default user's root selector allows everything.
    default_open: bool,
    /// Whether new selectors start with `allchannels` (`acl-pubsub-default`).
    pub pubsub_all: bool,
}

impl Acl {
    /// The ACL state at start: only `default`, with `requirepass` if set.
    pub fn new(config: &shoal_config::Config) -> Acl {
        let pubsub_all = matches!(config.acl_pubsub_default, shoal_config::AclPubsubDefault::Allchannels);
        let mut acl = Acl {
            users: BTreeMap::new(),
            log: VecDeque::new(),
            default_open: true,
            pubsub_all,
        };
        acl.users.insert(b"default".to_vec(), Self::default_user(pubsub_all));
        acl.set_default_password(&config.requirepass);
        acl
    }

    fn default_user(pubsub_all: bool) -> User {
        let mut u = User::new(b"default", pubsub_all);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(op.as_bytes(), pubsub_all);
        }
        u
    }

    /// `requirepass`: the default user's only password, or nopass when empty.
    pub fn set_default_password(&mut self, pass: &str) {
        let all = self.pubsub_all;
        if let Some(u) = self.users.get_mut(&b"default"[..]) {
            let _ = u.apply(b"resetpass", all);
            if pass.is_empty() {
                let _ = u.apply(b"nopass", all);
            } else {
                let mut op = b">".to_vec();
                op.extend_from_slice(pass.as_bytes());
                let _ = u.apply(&op, all);
            }
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        self.default_open = self.users.get(&b"default"[..]).is_some_and(|u| u.root.unrestricted());
    }

    /// Whether clients must authenticate: the default user needs a password or is off.
    pub fn auth_required(&self) -> bool {
        self.users.get(&b"default"[..]).is_none_or(|u| !u.nopass || !u.enabled)
    }

    /// True when a client of this user may run anything (the fast path).
    #[inline]
    pub fn unrestricted(&self, user: &str) -> bool {
        self.default_open && user == "default"
    }

    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Credentials check: the user exists, is on, and the password matches.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> bool {
        self.users.get(name).is_some_and(|u| u.enabled && u.password_ok(pass))
    }

    /// Applies ACL SETUSER rules atomically; returns the updated user and the
    /// old one (if it existed), or the failing rule and its error.
    pub fn set_user(&mut self, name: &[u8], rules: &[Vec<u8>]) -> Result<(Option<User>, User), (Vec<u8>, RuleError)> {
        let old = self.users.get(name).cloned();
        let mut u = old.clone().unwrap_or_else(|| User::new(name, self.pubsub_all));
        for r in rules {
            if let Err(e) = u.apply(r, self.pubsub_all) {
                return Err((r.clone(), e));
            }
        }
        self.users.insert(name.to_vec(), u.clone());
        self.refresh();
        Ok((old, u))
    }

    pub fn delete_user(&mut self, name: &[u8]) -> bool {
        let gone = self.users.remove(name).is_some();
        self.refresh();
        gone
    }

    /// Replaces every user (ACL LOAD); the default user is recreated when
    /// the new set lacks it.
    pub fn replace_users(&mut self, mut users: BTreeMap<Vec<u8>, User>) {
        if !users.contains_key(&b"default"[..]) {
            users.insert(b"default".to_vec(), Self::default_user(self.pubsub_all));
        }
        self.users = users;
        self.refresh();
    }

    /// Parses ACL file text into users: Err(errors) in Redis's words.
    pub fn parse_file(&self, text: &str, filename: &str) -> Result<BTreeMap<Vec<u8>, User>, String> {
        let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
        let mut errors = String::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            let n = i + 1;
            if line.is_empty() {
                continue;
            }
            let argv: Vec<&str> = line.split(' ').filter(|a| !a.is_empty()).collect();
            if argv.is_empty() {
                continue;
            }
            if argv[0] != "user" || argv.len() < 2 {
                errors.push_str(&format!(
                    "{filename}:{n} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = argv[1].as_bytes();
            if users.contains_key(name) {
                errors.push_str(&format!("WARNING: Duplicate user '{}' found on line {n}. ", argv[1]));
                continue;
            }
            let mut u = User::new(name, self.pubsub_all);
            let rest: Vec<&[u8]> = argv[2..].iter().map(|a| a.as_bytes()).collect();
            let merged = match merge_selector_args(&rest) {
                Ok(m) => m,
                Err(_) => {
                    errors.push_str(&format!(
                        "{filename}:{n}: Unmatched parenthesis in selector definition."
                    ));
                    Vec::new()
                }
            };
            let mut syntax_error = false;
            for op in &merged {
                if let Err(e) = u.apply(op, self.pubsub_all) {
                    if e == RuleError::Unknown {
                        errors.push_str(&format!(
                            "{filename}:{n}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(op),
                            e.message()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{filename}:{n}: {}. ", e.message()));
                        syntax_error = true;
                    }
                }
            }
            users.insert(name.to_vec(), u);
        }
        if errors.is_empty() {
            Ok(users)
        } else {
            errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
            Err(errors)
        }
    }

    /// The ACL file text: one `user` line per user, sorted by name.
    pub fn file_text(&self) -> String {
        let mut s = String::new();
        for u in self.users.values() {
            s.push_str("user ");
            s.push_str(&String::from_utf8_lossy(&u.name));
            s.push(' ');
            s.push_str(&u.describe());
            s.push('\n');
        }
        s
    }

    /// Adds a denial to the ACL log, merging it with a recent identical one.
    pub fn add_log(&mut self, mut entry: LogEntry, max_len: usize) {
        let found = self.log.iter().take(10).position(|e| {
            e.reason == entry.reason
                && e.context == entry.context
                && (e.ctime_ms - entry.ctime_ms).abs() <= 60_000
                && e.object == entry.object
                && e.username == entry.username
        });
        if let Some(i) = found {
            if let Some(mut e) = self.log.remove(i) {
                e.count += 1;
                e.ctime_ms = entry.ctime_ms;
                e.client_info = std::mem::take(&mut entry.client_info);
                self.log.push_front(e);
            }
            return;
        }
        self.log.push_front(entry);
        while self.log.len() > max_len {
            self.log.pop_back();
        }
    }
}

/// Whether a subscribed client of `old` must be disconnected after the user
/// became `new`: Redis's test (ACLKillPubsubClientsIfNeeded) — nothing to do
/// when a new selector allows every channel or the new channel list contains
/// every old one; otherwise each subscription is checked against the new list.
pub fn pubsub_kill_check(old: &User, new: &User) -> Option<Vec<Vec<u8>>> {
    let sels = || std::iter::once(&new.root).chain(new.selectors.iter());
    if sels().any(|s| s.allchannels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = sels().flat_map(|s| s.channels.iter().cloned()).collect();
    let all_kept = std::iter::once(&old.root)
        .chain(old.selectors.iter())
        .flat_map(|s| s.channels.iter())
        .all(|c| upcoming.contains(c));
    if all_kept {
        return None;
    }
    Some(upcoming)
}

/// Whether a client's subscriptions all fit the channel list `upcoming`.
pub fn subscriptions_allowed(
    upcoming: &[Vec<u8>],
    channels: &[Vec<u8>],
    patterns: &[Vec<u8>],
    shard: &[Vec<u8>],
) -> bool {
    patterns.iter().all(|p| User::channel_allowed(upcoming, p, true))
        && channels
            .iter()
            .chain(shard.iter())
            .all(|c| User::channel_allowed(upcoming, c, false))
}

/// GETUSER's view of one selector: (commands, keys, channels).
pub fn selector_fields(u: &User) -> Vec<(String, String, String)> {
    std::iter::once(&u.root)
        .chain(u.selectors.iter())
        .map(|s| (s.commands_text(), s.keys_text(), s.channels_text()))
        .collect()
}

pub fn user_flags(u: &User) -> Vec<&'static str> {
    u.flags()
}

pub fn user_passwords(u: &User) -> &[String] {
    &u.passwords
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap();
        }
        u
    }

    #[test]
    fn describe_like_redis() {
        assert_eq!(Acl::default_user(false).describe(), "on nopass ~* &* +@all");
        assert_eq!(User::new(b"x", false).describe(), "off resetchannels -@all");
        let u = user(&[
            "on",
            ">p1",
            "~a*",
            "%R~b*",
            "&ch*",
            "+get",
            "+@hash",
            "-hget",
            "+client|id",
        ]);
        assert_eq!(
            u.describe(),
            "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~a* %R~b* resetchannels &ch* -@all +@hash +client|id +get -hget"
        );
        let u = user(&["+@all", "-set", "+select|0"]);
        assert_eq!(u.describe(), "off resetchannels +@all -set");
        let u = user(&["-@all", "+select|0"]);
        assert_eq!(u.describe(), "off resetchannels -@all +select|0");
    }

    #[test]
    fn rule_errors() {
        let mut u = User::new(b"u", false);
        assert_eq!(u.apply(b"%~foo", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"%RR~x", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"+config|get|x", false), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(u.apply(b"+client|", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"-select|0", false), Err(RuleError::Unknown));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        u.apply(b"~*", false).unwrap();
        assert_eq!(u.apply(b"~x", false), Err(RuleError::KeysAfterAll));
        u.apply(b"%rw~x", false).unwrap_err();
    }

    #[test]
    fn merge_selectors() {
        let args: Vec<&[u8]> = vec![b"on", b"(~x", b"+get)", b"(+set)"];
        assert_eq!(
            merge_selector_args(&args).unwrap(),
            vec![b"on".to_vec(), b"(~x +get)".to_vec(), b"(+set)".to_vec()]
        );
        let args: Vec<&[u8]> = vec![b"on", b"(~x"];
        assert_eq!(merge_selector_args(&args), Err(1));
    }
}
