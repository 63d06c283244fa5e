//! Start-up errors, printed the way redis-server 7.0.15 prints them.

use std::fmt;
use std::path::PathBuf;

/// The Redis version shoal answers for; it appears in the fatal error banner.
pub const REDIS_VERSION: &str = "7.0.15";

/// Where a config line came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A config file (the main one or an included one), absolute path.
    File(PathBuf),
    /// `-`: configuration read from standard input.
    Stdin,
    /// `--name value` options.
    CommandLine,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Stdin => f.write_str("standard input"),
            Source::CommandLine => f.write_str("command-line options"),
        }
    }
}

/// Why [`Config::from_args`](crate::Config::from_args) did not produce a
/// configuration. `Display` gives the text to print; [`exit_code`](Self::exit_code)
/// the status to exit with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A directive is unknown or malformed. Printed like redis-server:
    ///
    /// ```text
    ///
    /// *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
    /// Reading the configuration file, at line 2
    /// >>> 'foo bar'
    /// Bad directive or wrong number of arguments
    /// ```
    ///
    /// Difference from Redis: shoal adds a last line naming where the line
    /// came from (`Source: file /etc/redis/redis.conf`), because with
    /// `include` and command-line options the line number alone is ambiguous.
    /// Line numbers are Redis's: within an included file they count from that
    /// file's start; otherwise they count through the config file, then
    /// stdin, then one blank line, then one line per `--option`.
    Directive {
        line: usize,
        /// The line as read, trimmed.
        text: String,
        msg: String,
        source: Option<Source>,
    },
    /// A check made after all lines were read (the log file cannot be
    /// opened, `replicaof` in cluster mode): the banner and the message.
    Fatal(String),
    /// The config file (or an included one) cannot be read. redis-server
    /// logs this as a warning line ("Fatal error, can't open config file
    /// '...': ..."); the server should print it through its logger.
    Open { path: String, reason: String },
    /// `-v` / `--version` was given: print the version on stdout, exit 0.
    Version,
    /// `-h` / `--help` was given: print [`usage`] on stderr. redis-server
    /// exits with status 1 after it.
    Help,
    /// An option shoal does not offer (`--sentinel`, `--test-memory`,
    /// `--check-system`).
    Unsupported(String),
}

impl ConfigError {
    /// The exit status redis-server uses in the same case.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::Version => 0,
            _ => 1,
        }
    }
}

/// The `--help` text, with `program` in place of redis-server's
/// `./redis-server`.
pub fn usage(program: &str) -> String {
    format!(
        "Usage: {p} [/path/to/redis.conf] [options] [-]\n\
         \x20      {p} - (read config from stdin)\n\
         \x20      {p} -v or --version\n\
         \x20      {p} -h or --help\n\
         \n\
         Examples:\n\
         \x20      {p} (run the server with default conf)\n\
         \x20      echo 'maxmemory 128mb' | {p} -\n\
         \x20      {p} /etc/redis/6379.conf\n\
         \x20      {p} --port 7777\n\
         \x20      {p} --port 7777 --replicaof 127.0.0.1 8888\n\
         \x20      {p} /etc/myredis.conf --loglevel verbose -\n\
         \x20      {p} /etc/myredis.conf --loglevel verbose\n",
        p = program
    )
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Directive {
                line,
                text,
                msg,
                source,
            } => {
                write!(
                    f,
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                     Reading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
                )?;
                if let Some(src) = source {
                    writeln!(f, "Source: {src}")?;
                }
                Ok(())
            }
            ConfigError::Fatal(msg) => write!(f, "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{msg}\n"),
            ConfigError::Open { path, reason } => write!(f, "Fatal error, can't open config file '{path}': {reason}"),
            ConfigError::Version => write!(
                f,
                "shoal server v={} (Redis {REDIS_VERSION} compatible)",
                env!("CARGO_PKG_VERSION")
            ),
            ConfigError::Help => f.write_str(&usage("shoal-server")),
            ConfigError::Unsupported(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ConfigError {}
