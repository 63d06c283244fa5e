//! Log lines in Redis's format: `pid:M 21 Nov 2026 22:12:23.123 * message`, written
//! to stdout, to `logfile`, and/or to syslog, filtered by `loglevel`.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
}

impl Level {
    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Some(Level::Debug),
            "verbose" => Some(Level::Verbose),
            "notice" => Some(Level::Notice),
            "warning" => Some(Level::Warning),
            _ => None,
        }
    }
    fn syslog_priority(self) -> libc::c_int {
        match self {
            Level::Debug => libc::LOG_DEBUG,
            Level::Verbose => libc::LOG_INFO,
            Level::Notice => libc::LOG_NOTICE,
            Level::Warning => libc::LOG_WARNING,
        }
    }
}

struct Sink {
    level: Level,
    /// Empty = standard output.
    file: String,
    syslog: bool,
    role: char,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    level: Level::Notice,
    file: String::new(),
    syslog: false,
    role: 'M',
});

/// Sets where and what to log. `ident` is kept alive for syslog's lifetime.
pub fn configure(level: Level, file: &str, syslog: Option<(&str, libc::c_int)>) {
    let mut s = SINK.lock().unwrap();
    s.level = level;
    s.file = file.to_string();
    if let Some((ident, facility)) = syslog {
        let ident = std::ffi::CString::new(ident).unwrap_or_default();
        // syslog keeps the pointer: leak the one identity string we hand it.
        let ptr = Box::leak(ident.into_boxed_c_str()).as_ptr();
        unsafe { libc::openlog(ptr, libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT, facility) };
        s.syslog = true;
    }
}

/// The role letter of log lines: `M` master, `S` replica (as Redis prints).
pub fn set_role(role: char) {
    SINK.lock().unwrap().role = role;
}

pub fn set_level(level: Level) {
    SINK.lock().unwrap().level = level;
}

pub fn enabled(level: Level) -> bool {
    level >= SINK.lock().unwrap().level
}

/// Local time as Redis prints it, e.g. `21 Nov 2026 22:12:23.123`.
pub fn timestamp() -> String {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&tv.tv_sec, &mut tm) };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon as usize % 12],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tv.tv_usec / 1000
    )
}

pub fn log(level: Level, msg: &str) {
    let s = SINK.lock().unwrap();
    if level < s.level {
        return;
    }
    let line = format!(
        "{}:{} {} {} {}\n",
        std::process::id(),
        s.role,
        timestamp(),
        level.mark(),
        msg
    );
    if s.file.is_empty() {
        let _ = std::io::stdout().write_all(line.as_bytes());
        let _ = std::io::stdout().flush();
    } else if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&s.file) {
        let _ = f.write_all(line.as_bytes());
    }
    if s.syslog {
        if let Ok(c) = std::ffi::CString::new(msg.replace('%', "%%")) {
            unsafe { libc::syslog(level.syslog_priority(), c.as_ptr()) };
        }
    }
}

#[macro_export]
macro_rules! notice { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Notice, &format!($($t)*)) } }
#[macro_export]
macro_rules! warning { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Warning, &format!($($t)*)) } }
#[macro_export]
macro_rules! verbose { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Verbose, &format!($($t)*)) } }
#[macro_export]
macro_rules! debug { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Debug, &format!($($t)*)) } }
