//! From the command line to a running server: configuration, logging, daemonizing,
//! pidfile, listening, and the orderly shutdown.

use crate::net::{install_signal_handlers, log_ready, EventLoop};
use crate::server::{Server, VERSION};
use crate::{log, notice, warning};
use shoal_config::Config;

fn usage() -> String {
    "Usage: ./shoal-server [/path/to/redis.conf] [options] [-]\n       ./shoal-server - (read config from stdin)\n       ./shoal-server -v or --version\n       ./shoal-server -h or --help\n\nExamples:\n       ./shoal-server (run the server with default conf)\n       ./shoal-server /etc/redis/6379.conf\n       ./shoal-server --port 7777\n       ./shoal-server /etc/myredis.conf --loglevel verbose\n".to_string()
}

/// Detaches from the terminal like Redis's `daemonize yes`.
fn daemonize() {
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("fork failed");
                std::process::exit(1);
            }
            0 => {}
            _ => std::process::exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

/// Runs the server; returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    if let Some(first) = args.first() {
        if first == "-v" || first == "--version" {
            println!(
                "shoal server v={} (Redis {VERSION} compatible) bits=64",
                env!("CARGO_PKG_VERSION")
            );
            return 0;
        }
        if first == "-h" || first == "--help" {
            print!("{}", usage());
            return 0;
        }
    }
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e @ shoal_config::ConfigError::Open { .. }) => {
            // Redis reports this one as a log line on standard output.
            warning!("{e}");
            return 1;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if config.daemonize {
        daemonize();
    }
    let level = log::Level::parse(config.loglevel.name()).unwrap_or(log::Level::Notice);
    let syslog = if config.syslog_enabled {
        use shoal_config::SyslogFacility as F;
        let facility = match config.syslog_facility {
            F::User => libc::LOG_USER,
            F::Local0 => libc::LOG_LOCAL0,
            F::Local1 => libc::LOG_LOCAL1,
            F::Local2 => libc::LOG_LOCAL2,
            F::Local3 => libc::LOG_LOCAL3,
            F::Local4 => libc::LOG_LOCAL4,
            F::Local5 => libc::LOG_LOCAL5,
            F::Local6 => libc::LOG_LOCAL6,
            F::Local7 => libc::LOG_LOCAL7,
        };
        Some((config.syslog_ident.as_str(), facility))
    } else {
        None
    };
    let logfile = if config.daemonize && config.logfile.is_empty() {
        "/dev/null".to_string()
    } else {
        config.logfile.clone()
    };
    log::configure(level, &logfile, syslog);
    notice!("oO0OoO0OoO0Oo shoal is starting oO0OoO0OoO0Oo");
    notice!(
        "shoal version={}, redis_version={VERSION}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    match config.config_file() {
        Some(p) => notice!("Configuration loaded from {}", p.display()),
        None => warning!("Warning: no config file specified, using the default config. In order to specify a config file use ./shoal-server /path/to/redis.conf"),
    }
    for name in config.unsupported_in_use() {
        warning!("Config directive '{name}' is accepted but not supported yet by shoal; it has no effect");
    }
    if !config.dir.as_os_str().is_empty() {
        if let Err(e) = std::env::set_current_dir(&config.dir) {
            warning!("Can't chdir to '{}': {}", config.dir.display(), e);
            return 1;
        }
    }
    let pidfile = if !config.pidfile.is_empty() {
        Some(config.pidfile.clone())
    } else if config.daemonize {
        Some("/var/run/shoal.pid".to_string())
    } else {
        None
    };
    if let Some(p) = &pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            warning!("Failed to write PID file {p}: {e}");
        }
    }
    install_signal_handlers();
    crate::clock::init();
    let mut srv = Server::new(config);
    let mut event_loop = match EventLoop::new(&mut srv) {
        Ok(l) => l,
        Err(_) => return 1,
    };
    if let Err(e) = crate::commands::acl::load_at_startup(&mut srv) {
        warning!("Aborting Redis startup because of ACL errors: {e}");
        return 1;
    }
    crate::commands::server::record_startup_memory();
    notice!("Server initialized");
    // Keys created while loading (AOF commands, RDB keys without an LFU or
    // LRU opcode) start with the stamp of the current policy, as Redis's
    // new objects do: under an LFU policy counter 5 (LFU_INIT_VAL) at the
    // load time, not the LRU clock the databases were made with.
    srv.now_ms = crate::server::unix_ms();
    let stamp = crate::evict::initial_stamp(&srv);
    for db in srv.keyspace.dbs.iter_mut() {
        db.lru_clock = stamp;
    }
    if !crate::aof::load_at_startup(&mut srv) {
        return 1;
    }
    log_ready();
    if let Some(m) = srv.config.replicaof.clone() {
        crate::replication::set_master(&mut srv, m.host, m.port);
    }
    let result = event_loop.run(&mut srv);
    if let Err(e) = &result {
        warning!("Event loop failed: {e}");
    }
    notice!("User requested shutdown...");
    crate::aof::shutdown(&mut srv);
    if let Some(p) = &pidfile {
        notice!("Removing the pid file.");
        let _ = std::fs::remove_file(p);
    }
    notice!("shoal is now ready to exit, bye bye...");
    if result.is_ok() {
        0
    } else {
        1
    }
}
