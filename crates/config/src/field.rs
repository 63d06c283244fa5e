//! How each field type is parsed from directive arguments, shown by CONFIG
//! GET and written by CONFIG REWRITE. The [`Kind`] of a directive carries
//! its parameters (bounds, validators); the Rust type of its field picks the
//! code. The error texts are redis-server 7.0.15's.

use std::path::PathBuf;

use crate::parse::{memory_human, parse_loose_i64, parse_memory, parse_strict_i64, repr, strerror};
use crate::values::*;
use crate::Kind;

pub(crate) const WRONG_ARGS: &str = "wrong number of arguments";

/// Where a value comes from; a few directives behave differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Building the defaults.
    Default,
    /// A config file, stdin or command-line options.
    File,
    /// CONFIG SET.
    Set,
}

pub(crate) struct Ctx {
    pub mode: Mode,
    /// In file mode, the first `save` line replaces the defaults and later
    /// ones add to it.
    pub save_seen: bool,
}

impl Ctx {
    pub fn new(mode: Mode) -> Self {
        Ctx { mode, save_seen: false }
    }
}

pub(crate) fn enum_error(names: &[&str]) -> String {
    format!("argument(s) must be one of the following: {}", names.join(", "))
}

/// A field type of [`Config`](crate::Config).
pub(crate) trait Field: Sized {
    /// Parses the arguments (arity already checked for one-argument kinds).
    fn parse(kind: &Kind, args: &[String], ctx: &mut Ctx, cur: &Self) -> Result<Self, String>;

    /// The CONFIG GET text.
    fn show(&self, kind: &Kind) -> String;

    /// The argument text CONFIG REWRITE writes after the name.
    fn rewrite_arg(&self, kind: &Kind) -> String {
        self.show(kind)
    }

    /// The lines CONFIG REWRITE writes, each with whether it must be written
    /// even when the file has no line for the directive yet.
    fn rewrite(&self, kind: &Kind, name: &str, default: &Self) -> Vec<(String, bool)> {
        vec![(
            format!("{name} {}", self.rewrite_arg(kind)),
            self.show(kind) != default.show(kind),
        )]
    }
}

impl Field for bool {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        let a = &args[0];
        if a.eq_ignore_ascii_case("yes") {
            Ok(true)
        } else if a.eq_ignore_ascii_case("no") {
            Ok(false)
        } else {
            Err("argument must be 'yes' or 'no'".into())
        }
    }
    fn show(&self, _: &Kind) -> String {
        if *self { "yes" } else { "no" }.into()
    }
}

fn between(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// Parses a number-like directive into i128 so every bound fits.
fn parse_number(kind: &Kind, s: &str) -> Result<i128, String> {
    match *kind {
        Kind::Int { min, max, clamp } => {
            let v = parse_strict_i64(s).ok_or("argument couldn't be parsed into an integer")?;
            if v < min || v > max {
                return Err(between(min, max));
            }
            Ok(match clamp {
                Some((lo, hi)) => v.clamp(lo, hi),
                None => v,
            } as i128)
        }
        Kind::Memory { min, max } => {
            let v = parse_memory(s).ok_or("argument must be a memory value")?;
            if v < min || v > max {
                return Err(between(min, max));
            }
            Ok(v as i128)
        }
        Kind::Octal { max } => {
            if s.is_empty() {
                return Ok(0);
            }
            let b = s.trim_start();
            let (neg, digits) = match b.as_bytes().first() {
                Some(b'-') => (true, &b[1..]),
                Some(b'+') => (false, &b[1..]),
                _ => (false, b),
            };
            if digits.is_empty() || !digits.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return Err("argument couldn't be parsed as an octal number".into());
            }
            let v = i128::from_str_radix(digits, 8).map_err(|_| "argument couldn't be parsed as an octal number")?;
            let v = if neg { -v } else { v };
            if v < 0 || v > max as i128 {
                return Err(format!("argument must be between 0 and {max:o} inclusive"));
            }
            Ok(v)
        }
        _ => unreachable!("number field with kind {kind:?}"),
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn parse(kind: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
                parse_number(kind, &args[0]).map(|v| v as $t)
            }
            fn show(&self, kind: &Kind) -> String {
                match kind {
                    Kind::Octal { .. } => format!("{:o}", self),
                    _ => self.to_string(),
                }
            }
            fn rewrite_arg(&self, kind: &Kind) -> String {
                match kind {
                    Kind::Memory { .. } => memory_human(*self as u64),
                    _ => self.show(kind),
                }
            }
        }
    )*};
}

int_field!(u16, u32, u64, i32, i64);

impl Field for String {
    fn parse(kind: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        if let Kind::Str { check: Some(check), .. } = kind {
            check(&args[0]).map_err(String::from)?;
        }
        Ok(args[0].clone())
    }
    fn show(&self, _: &Kind) -> String {
        self.clone()
    }
    fn rewrite_arg(&self, _: &Kind) -> String {
        repr(self.as_bytes())
    }
    fn rewrite(&self, kind: &Kind, name: &str, default: &Self) -> Vec<(String, bool)> {
        if matches!(kind, Kind::Str { nullable: true, .. }) && self.is_empty() {
            return Vec::new();
        }
        vec![(format!("{name} {}", self.rewrite_arg(kind)), self != default)]
    }
}

/// `dir`: resolved against the current one, must exist, stored absolute.
impl Field for PathBuf {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, cur: &Self) -> Result<Self, String> {
        let base = if cur.as_os_str().is_empty() {
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
        } else {
            cur.clone()
        };
        if args[0].is_empty() {
            return Err("No such file or directory".into());
        }
        let target = base.join(&args[0]);
        match std::fs::metadata(&target) {
            Err(e) => Err(strerror(&e)),
            Ok(m) if !m.is_dir() => Err("Not a directory".into()),
            Ok(_) => Ok(std::fs::canonicalize(&target).unwrap_or(target)),
        }
    }
    fn show(&self, _: &Kind) -> String {
        self.to_string_lossy().into_owned()
    }
    fn rewrite(&self, kind: &Kind, name: &str, _: &Self) -> Vec<(String, bool)> {
        vec![(format!("{name} {}", repr(self.show(kind).as_bytes())), true)]
    }
}

/// `bind`.
impl Field for Vec<String> {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        if args.len() > 16 {
            return Err("Too many bind addresses specified.".into());
        }
        Ok(args.to_vec())
    }
    fn show(&self, _: &Kind) -> String {
        self.join(" ")
    }
    fn rewrite_arg(&self, kind: &Kind) -> String {
        if self.is_empty() {
            "\"\"".into()
        } else {
            self.show(kind)
        }
    }
}

/// `save`.
impl Field for Vec<SavePoint> {
    fn parse(_: &Kind, args: &[String], ctx: &mut Ctx, cur: &Self) -> Result<Self, String> {
        let mut points = if ctx.mode == Mode::File && ctx.save_seen {
            cur.clone()
        } else {
            Vec::new()
        };
        if ctx.mode == Mode::File {
            ctx.save_seen = true;
        }
        if args.is_empty() {
            return Ok(Vec::new());
        }
        if args.len() & 1 != 0 {
            return Err("Invalid save parameters".into());
        }
        for pair in args.chunks(2) {
            let seconds = parse_loose_i64(&pair[0]).filter(|&v| v >= 1);
            let changes = parse_loose_i64(&pair[1]).filter(|&v| v >= 0);
            match (seconds, changes) {
                (Some(seconds), Some(changes)) => points.push(SavePoint { seconds, changes }),
                _ => return Err("Invalid save parameters".into()),
            }
        }
        Ok(points)
    }
    fn show(&self, _: &Kind) -> String {
        let parts: Vec<String> = self.iter().map(|p| format!("{} {}", p.seconds, p.changes)).collect();
        parts.join(" ")
    }
    fn rewrite(&self, _: &Kind, name: &str, _: &Self) -> Vec<(String, bool)> {
        if self.is_empty() {
            return vec![(format!("{name} \"\""), true)];
        }
        self.iter()
            .map(|p| (format!("{name} {} {}", p.seconds, p.changes), true))
            .collect()
    }
}

/// `client-output-buffer-limit`.
impl Field for [ObufLimit; 3] {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, cur: &Self) -> Result<Self, String> {
        if args.len() & 3 != 0 {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut out = *cur;
        for group in args.chunks(4) {
            let class = ClientClass::from_name(&group[0])
                .ok_or("Invalid client class specified in buffer limit configuration.")?;
            let hard = parse_memory(&group[1]);
            let soft = parse_memory(&group[2]);
            let secs = parse_loose_i64(&group[3]).filter(|&v| v >= 0);
            match (hard, soft, secs) {
                (Some(hard), Some(soft), Some(secs)) => {
                    out[class.index()] = ObufLimit {
                        hard,
                        soft,
                        soft_seconds: secs as u64,
                    };
                }
                _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
            }
        }
        Ok(out)
    }
    fn show(&self, _: &Kind) -> String {
        let parts: Vec<String> = ClientClass::ALL
            .iter()
            .map(|c| {
                let l = self[c.index()];
                format!("{} {} {} {}", c.get_name(), l.hard, l.soft, l.soft_seconds)
            })
            .collect();
        parts.join(" ")
    }
    fn rewrite(&self, _: &Kind, name: &str, default: &Self) -> Vec<(String, bool)> {
        ClientClass::ALL
            .iter()
            .map(|c| {
                let l = self[c.index()];
                let line = format!(
                    "{name} {} {} {} {}",
                    c.rewrite_name(),
                    memory_human(l.hard),
                    memory_human(l.soft),
                    l.soft_seconds
                );
                (line, l != default[c.index()])
            })
            .collect()
    }
}

/// `notify-keyspace-events`.
impl Field for KeyspaceEvents {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        KeyspaceEvents::parse(&args[0]).ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
    }
    fn show(&self, _: &Kind) -> String {
        self.to_string()
    }
    fn rewrite_arg(&self, _: &Kind) -> String {
        repr(self.to_string().as_bytes())
    }
}

/// `oom-score-adj-values`.
impl Field for [i32; 3] {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        if args.len() != 3 {
            return Err(WRONG_ARGS.into());
        }
        let mut out = [0; 3];
        for (slot, a) in out.iter_mut().zip(args) {
            match parse_loose_i64(a).filter(|v| (-2000..=2000).contains(v)) {
                Some(v) => *slot = v as i32,
                _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
            }
        }
        Ok(out)
    }
    fn show(&self, _: &Kind) -> String {
        format!("{} {} {}", self[0], self[1], self[2])
    }
}

fn format_percentile(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `latency-tracking-info-percentiles`.
impl Field for Vec<f64> {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            let v: f64 = match a.parse() {
                Ok(v) if f64::is_finite(v) => v,
                _ => return Err("Invalid latency-tracking-info-percentiles parameters".into()),
            };
            if !(0.0..=100.0).contains(&v) {
                return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
            }
            out.push(v);
        }
        Ok(out)
    }
    fn show(&self, _: &Kind) -> String {
        let parts: Vec<String> = self.iter().map(|v| format_percentile(*v)).collect();
        parts.join(" ")
    }
    fn rewrite_arg(&self, kind: &Kind) -> String {
        if self.is_empty() {
            "\"\"".into()
        } else {
            self.show(kind)
        }
    }
    fn rewrite(&self, kind: &Kind, name: &str, _: &Self) -> Vec<(String, bool)> {
        // redis-server 7.0 always writes this one.
        vec![(format!("{name} {}", self.rewrite_arg(kind)), true)]
    }
}

/// `replicaof`.
impl Field for Option<ReplicaOf> {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
            return Ok(None);
        }
        match parse_strict_i64(&args[1]) {
            Some(p) if (0..=65535).contains(&p) => Ok(Some(ReplicaOf {
                host: args[0].clone(),
                port: p as u16,
            })),
            _ => Err("Invalid master port".into()),
        }
    }
    fn show(&self, _: &Kind) -> String {
        match self {
            Some(r) => format!("{} {}", r.host, r.port),
            None => String::new(),
        }
    }
    fn rewrite(&self, kind: &Kind, name: &str, _: &Self) -> Vec<(String, bool)> {
        match self {
            Some(_) => vec![(format!("{name} {}", self.show(kind)), true)],
            None => Vec::new(),
        }
    }
}

/// `maxmemory-clients`.
impl Field for ClientsMemLimit {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        const BAD: &str = "argument must be a memory or percent value";
        const OVER: &str = "percentage argument must be less or equal to 100";
        let a = &args[0];
        let signed: i128 = if let Some(p) = a.strip_suffix('%') {
            match parse_strict_i64(p) {
                Some(v) if v >= 0 => -(v as i128),
                _ => return Err(BAD.into()),
            }
        } else {
            // Like redis-server, the byte count is read as a signed number, so
            // a value past i64::MAX turns into a percentage.
            parse_memory(a).ok_or(BAD)? as i64 as i128
        };
        if signed < 0 {
            let pct = -signed;
            if pct > 100 {
                return Err(OVER.into());
            }
            Ok(ClientsMemLimit::Percent(pct as u32))
        } else {
            Ok(ClientsMemLimit::Bytes(signed as u64))
        }
    }
    fn show(&self, _: &Kind) -> String {
        match self {
            ClientsMemLimit::Bytes(b) => b.to_string(),
            ClientsMemLimit::Percent(p) => format!("{p}%"),
        }
    }
    fn rewrite_arg(&self, kind: &Kind) -> String {
        match self {
            ClientsMemLimit::Bytes(b) => memory_human(*b),
            ClientsMemLimit::Percent(_) => self.show(kind),
        }
    }
}

/// `shutdown-on-sigint`, `shutdown-on-sigterm`.
impl Field for ShutdownFlags {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, _: &Self) -> Result<Self, String> {
        let names: Vec<&str> = ShutdownFlags::NAMES.iter().map(|(n, _)| *n).collect();
        if args.is_empty() {
            return Err(enum_error(&names));
        }
        let mut bits = 0;
        for a in args {
            let (_, b) = ShutdownFlags::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(a))
                .ok_or_else(|| enum_error(&names))?;
            bits |= b;
        }
        if bits & ShutdownFlags::SAVE != 0 && bits & ShutdownFlags::NOSAVE != 0 {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
        }
        Ok(ShutdownFlags(bits))
    }
    fn show(&self, _: &Kind) -> String {
        self.to_string()
    }
}

/// `rename-command` (file only; every line adds one).
impl Field for Vec<RenameCommand> {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, cur: &Self) -> Result<Self, String> {
        let mut out = cur.clone();
        out.push(RenameCommand {
            from: args[0].clone(),
            to: args[1].clone(),
        });
        Ok(out)
    }
    fn show(&self, _: &Kind) -> String {
        let parts: Vec<String> = self
            .iter()
            .map(|r| format!("{} {}", r.from, repr(r.to.as_bytes())))
            .collect();
        parts.join(" ")
    }
}

/// `user`, `loadmodule` (file only; every line adds one).
impl Field for Vec<Vec<String>> {
    fn parse(_: &Kind, args: &[String], _: &mut Ctx, cur: &Self) -> Result<Self, String> {
        let mut out = cur.clone();
        out.push(args.to_vec());
        Ok(out)
    }
    fn show(&self, _: &Kind) -> String {
        let parts: Vec<String> = self.iter().map(|a| a.join(" ")).collect();
        parts.join(", ")
    }
}
