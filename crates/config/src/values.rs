//! The typed values held by [`Config`](crate::Config) fields that are more than
//! a number, a flag or a string: enumerations, output buffer limits, save
//! points, keyspace event classes and so on.

use std::fmt;

/// Declares a directive enumeration: the Rust enum, its config-file names in
/// the order Redis lists them in error messages, and name conversions.
macro_rules! config_enum {
    ($(#[$meta:meta])* pub enum $ty:ident { $( $(#[$vmeta:meta])* $variant:ident = $name:literal ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $ty { $( $(#[$vmeta])* $variant ),+ }

        impl $ty {
            /// Every accepted name, in Redis's order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
            const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used in config files and CONFIG GET.
            pub fn name(self) -> &'static str {
                Self::NAMES[self as usize]
            }

            /// Looks a name up, ignoring ASCII case.
            pub fn from_name(s: &str) -> Option<Self> {
                Self::NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)).map(|i| Self::ALL[i])
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $crate::field::Field for $ty {
            fn parse(_: &$crate::Kind, args: &[String], _: &mut $crate::field::Ctx, _: &Self) -> Result<Self, String> {
                $ty::from_name(&args[0]).ok_or_else(|| $crate::field::enum_error(Self::NAMES))
            }
            fn show(&self, _: &$crate::Kind) -> String {
                self.name().to_string()
            }
        }
    };
}

config_enum! {
    /// `loglevel`.
    pub enum LogLevel { Debug = "debug", Verbose = "verbose", Notice = "notice", Warning = "warning" }
}

config_enum! {
    /// `maxmemory-policy`.
    pub enum MaxmemoryPolicy {
        VolatileLru = "volatile-lru",
        VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random",
        VolatileTtl = "volatile-ttl",
        AllkeysLru = "allkeys-lru",
        AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random",
        Noeviction = "noeviction",
    }
}

config_enum! {
    /// `appendfsync`.
    pub enum AppendFsync { Everysec = "everysec", Always = "always", No = "no" }
}

config_enum! {
    /// `syslog-facility`.
    pub enum SyslogFacility {
        User = "user",
        Local0 = "local0",
        Local1 = "local1",
        Local2 = "local2",
        Local3 = "local3",
        Local4 = "local4",
        Local5 = "local5",
        Local6 = "local6",
        Local7 = "local7",
    }
}

config_enum! {
    /// `supervised`.
    pub enum Supervised { Upstart = "upstart", Systemd = "systemd", Auto = "auto", No = "no" }
}

config_enum! {
    /// `repl-diskless-load`.
    pub enum ReplDisklessLoad { Disabled = "disabled", OnEmptyDb = "on-empty-db", Swapdb = "swapdb" }
}

config_enum! {
    /// `acl-pubsub-default`.
    pub enum AclPubsubDefault { Allchannels = "allchannels", Resetchannels = "resetchannels" }
}

config_enum! {
    /// `cluster-preferred-endpoint-type`.
    pub enum EndpointType { Ip = "ip", Hostname = "hostname", UnknownEndpoint = "unknown-endpoint" }
}

config_enum! {
    /// `oom-score-adj`.
    pub enum OomScoreAdj { No = "no", Yes = "yes", Relative = "relative", Absolute = "absolute" }
}

config_enum! {
    /// `propagation-error-behavior`.
    pub enum PropagationErrorBehavior { Ignore = "ignore", Panic = "panic", PanicOnReplicas = "panic-on-replicas" }
}

config_enum! {
    /// `sanitize-dump-payload`.
    pub enum SanitizeDumpPayload { No = "no", Yes = "yes", Clients = "clients" }
}

config_enum! {
    /// `tls-auth-clients`.
    pub enum TlsAuthClients { No = "no", Yes = "yes", Optional = "optional" }
}

config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`.
    pub enum EnableLevel { No = "no", Yes = "yes", Local = "local" }
}

impl EnableLevel {
    /// Whether a client (local: loopback or unix socket) may use the feature.
    pub fn allows(self, local_client: bool) -> bool {
        match self {
            EnableLevel::No => false,
            EnableLevel::Yes => true,
            EnableLevel::Local => local_client,
        }
    }
}

/// The client classes of `client-output-buffer-limit`, usable as an index
/// into [`Config::client_output_buffer_limit`](crate::Config::client_output_buffer_limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientClass {
    Normal = 0,
    /// Written `slave` by CONFIG GET and `replica` by CONFIG REWRITE; both
    /// names are accepted.
    Replica = 1,
    Pubsub = 2,
}

impl ClientClass {
    pub const ALL: [ClientClass; 3] = [ClientClass::Normal, ClientClass::Replica, ClientClass::Pubsub];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Accepts `normal`, `slave`, `replica`, `pubsub` in any case.
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Some(ClientClass::Normal),
            "slave" | "replica" => Some(ClientClass::Replica),
            "pubsub" => Some(ClientClass::Pubsub),
            _ => None,
        }
    }

    /// The name CONFIG GET uses.
    pub fn get_name(self) -> &'static str {
        ["normal", "slave", "pubsub"][self as usize]
    }

    /// The name CONFIG REWRITE uses.
    pub fn rewrite_name(self) -> &'static str {
        ["normal", "replica", "pubsub"][self as usize]
    }
}

/// One class of `client-output-buffer-limit`; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    /// Bytes; a client over it is closed at once.
    pub hard: u64,
    /// Bytes; a client over it for `soft_seconds` is closed.
    pub soft: u64,
    pub soft_seconds: u64,
}

/// One `save <seconds> <changes>` point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: i64,
    pub changes: i64,
}

/// `replicaof <host> <port>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOf {
    pub host: String,
    pub port: u16,
}

/// `rename-command <name> <new-name>` (an empty new name disables the command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameCommand {
    pub from: String,
    pub to: String,
}

/// `maxmemory-clients`: a byte count or a percentage of `maxmemory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientsMemLimit {
    Bytes(u64),
    Percent(u32),
}

impl Default for ClientsMemLimit {
    fn default() -> Self {
        ClientsMemLimit::Bytes(0)
    }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags (`default` is none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownFlags(pub u8);

impl ShutdownFlags {
    pub const SAVE: u8 = 1;
    pub const NOSAVE: u8 = 2;
    pub const NOW: u8 = 4;
    pub const FORCE: u8 = 8;
    /// Names and bits, `default` first; the order CONFIG GET prints them in.
    pub const NAMES: &'static [(&'static str, u8)] = &[
        ("default", 0),
        ("save", Self::SAVE),
        ("nosave", Self::NOSAVE),
        ("now", Self::NOW),
        ("force", Self::FORCE),
    ];

    pub fn contains(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

impl fmt::Display for ShutdownFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("default");
        }
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(_, b)| *b != 0 && self.0 & b != 0)
            .map(|(n, _)| *n)
            .collect();
        f.write_str(&names.join(" "))
    }
}

/// `notify-keyspace-events` classes as bits. `Display` gives the canonical
/// text CONFIG GET shows (`KEA` becomes `AKE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyspaceEvents(pub u32);

impl KeyspaceEvents {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 11;
    /// `n`: new key events (not part of `A`).
    pub const NEW: u32 = 1 << 12;
    /// `m`: key miss events (not part of `A`).
    pub const MISS: u32 = 1 << 13;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 = Self::GENERIC
        | Self::STRING
        | Self::LIST
        | Self::SET
        | Self::HASH
        | Self::ZSET
        | Self::EXPIRED
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    const TYPE_CHARS: [(char, u32); 11] = [
        ('g', Self::GENERIC),
        ('$', Self::STRING),
        ('l', Self::LIST),
        ('s', Self::SET),
        ('h', Self::HASH),
        ('z', Self::ZSET),
        ('x', Self::EXPIRED),
        ('e', Self::EVICTED),
        ('t', Self::STREAM),
        ('d', Self::MODULE),
        ('n', Self::NEW),
    ];

    /// Parses the class characters `Ag$lshzxeKEtmdn`; `None` on any other.
    pub fn parse(s: &str) -> Option<Self> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'A' => Self::ALL,
                'K' => Self::KEYSPACE,
                'E' => Self::KEYEVENT,
                'm' => Self::MISS,
                _ => Self::TYPE_CHARS.iter().find(|(ch, _)| *ch == c)?.1,
            };
        }
        Some(KeyspaceEvents(bits))
    }

    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// Whether any notification can be sent at all.
    pub fn enabled(self) -> bool {
        self.0 & (Self::KEYSPACE | Self::KEYEVENT) != 0
    }
}

impl fmt::Display for KeyspaceEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        if self.0 & Self::ALL == Self::ALL {
            // Like redis-server 7.0, `n` is not printed next to `A`.
            s.push('A');
        } else {
            for (c, bit) in Self::TYPE_CHARS {
                if self.0 & bit != 0 {
                    s.push(c);
                }
            }
        }
        if self.0 & Self::KEYSPACE != 0 {
            s.push('K');
        }
        if self.0 & Self::KEYEVENT != 0 {
            s.push('E');
        }
        if self.0 & Self::MISS != 0 {
            s.push('m');
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        KeyspaceEvents::parse(s).unwrap().to_string()
    }

    #[test]
    fn keyspace_events_canonical_text() {
        // Pairs observed with redis-server 7.0.15 (CONFIG SET then CONFIG GET).
        let cases = [
            ("KEA", "AKE"),
            ("Eg$lshzxetmdn", "AEm"),
            ("AK", "AK"),
            ("x", "x"),
            ("gK", "gK"),
            ("zzK", "zK"),
            ("A", "A"),
            ("KEA$", "AKE"),
            ("Kn", "nK"),
            ("dtexzhsl$gK", "AK"),
            ("mK", "Km"),
            ("EmK", "KEm"),
            ("AnmKE", "AKEm"),
            ("g$lshzxetdmn", "Am"),
            ("n$lshzxe", "$lshzxen"),
            ("dte", "etd"),
            ("", ""),
        ];
        for (input, out) in cases {
            assert_eq!(canon(input), out, "{input}");
        }
        assert!(KeyspaceEvents::parse("Q").is_none());
    }

    #[test]
    fn shutdown_flags_text() {
        assert_eq!(ShutdownFlags(0).to_string(), "default");
        assert_eq!(
            ShutdownFlags(ShutdownFlags::FORCE | ShutdownFlags::SAVE).to_string(),
            "save force"
        );
        assert_eq!(
            ShutdownFlags(ShutdownFlags::NOSAVE | ShutdownFlags::NOW).to_string(),
            "nosave now"
        );
    }

    #[test]
    fn enums_by_name() {
        assert_eq!(
            MaxmemoryPolicy::from_name("ALLKEYS-LRU"),
            Some(MaxmemoryPolicy::AllkeysLru)
        );
        assert_eq!(LogLevel::Warning.name(), "warning");
        assert_eq!(LogLevel::from_name("loud"), None);
        assert_eq!(ClientClass::from_name("SLAVE"), Some(ClientClass::Replica));
    }
}
