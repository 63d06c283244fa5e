//! Tests against behaviour recorded from redis-server 7.0.15 (see
//! `testdata/README.md`) and round trips of our own.

use std::path::{Path, PathBuf};

use crate::load::{from_args_with_stdin, parse_command_line};
use crate::parse::repr;
use crate::*;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn from_args_stdin(v: &[&str], stdin: &str) -> Result<Config, ConfigError> {
    let input = stdin.as_bytes().to_vec();
    from_args_with_stdin(&args(v), &mut || Ok(input.clone()))
}

fn text(s: &str) -> Config {
    Config::from_text(s).unwrap_or_else(|e| panic!("{e}"))
}

fn err_msg(s: &str) -> String {
    match Config::from_text(s) {
        Err(ConfigError::Directive { msg, .. }) => msg,
        other => panic!("expected a directive error for {s:?}, got {other:?}"),
    }
}

fn get1(cfg: &Config, name: &str) -> String {
    cfg.get_one(name).unwrap_or_else(|| panic!("no {name}"))
}

fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let p: Vec<(&[u8], &[u8])> = pairs.iter().map(|(a, b)| (a.as_bytes(), b.as_bytes())).collect();
    cfg.set(&p)
}

/// A fresh directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "shoal-config-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::canonicalize(&d).unwrap()
}

fn testdata(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------- table

#[test]
fn defaults_match_redis() {
    let cfg = Config::default();
    let ours = cfg.get(&[b"*"]);
    let expected: Vec<(String, String)> = testdata("redis-7.0.15-defaults.tsv")
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    for (k, v) in &expected {
        let got = ours
            .iter()
            .find(|(n, _)| n == k)
            .unwrap_or_else(|| panic!("CONFIG GET * lacks {k}"));
        assert_eq!(&got.1, v, "default of {k}");
    }
    for (k, _) in &ours {
        if k == "dir" {
            continue;
        }
        let d = Config::directive(k).unwrap();
        assert!(
            expected.iter().any(|(n, _)| n == k) || d.has(Directive::EXTENSION),
            "{k} is not a Redis 7.0.15 directive"
        );
    }
    let cwd = std::fs::canonicalize(std::env::current_dir().unwrap()).unwrap();
    assert_eq!(get1(&cfg, "dir"), cwd.to_string_lossy());
    for l in testdata("redis-7.0.15-hidden-defaults.tsv").lines() {
        let (k, v) = l.split_once('\t').unwrap();
        assert!(!ours.iter().any(|(n, _)| n == k), "{k} must be hidden from patterns");
        assert_eq!(cfg.get(&[k.as_bytes()]), vec![(k.to_string(), v.to_string())]);
    }
}

#[test]
fn bad_values_match_redis() {
    let data = testdata("redis-7.0.15-bad-values.tsv");
    let values = ["abc", "-9223372036854775808", "18446744073709551615", "-1"];
    let mut checked = 0;
    for l in data.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = l.split('\t').collect();
        let name = cols[0];
        for (v, want) in values.iter().zip(&cols[1..]) {
            let line = format!("{name} {}", repr(v.as_bytes()));
            let got = match Config::from_text(&line) {
                Ok(_) => "OK".to_string(),
                Err(ConfigError::Directive { msg, .. }) => msg,
                Err(e) => panic!("{line}: {e}"),
            };
            assert_eq!(&got, want, "{line}");
            checked += 1;
        }
    }
    assert!(checked > 700);
}

#[test]
fn mutability_matches_redis() {
    // Every directive CONFIG SET refused on redis-server 7.0.15.
    let immutable = [
        "aclfile",
        "always-show-logo",
        "aof_rewrite_cpulist",
        "appenddirname",
        "appendfilename",
        "bgsave_cpulist",
        "bio_cpulist",
        "cluster-config-file",
        "cluster-enabled",
        "cluster-port",
        "daemonize",
        "databases",
        "disable-thp",
        "enable-debug-command",
        "enable-module-command",
        "enable-protected-configs",
        "io-threads",
        "io-threads-do-reads",
        "logfile",
        "pidfile",
        "rdbchecksum",
        "replicaof",
        "server_cpulist",
        "set-proc-title",
        "slaveof",
        "socket-mark-id",
        "supervised",
        "syslog-enabled",
        "syslog-facility",
        "syslog-ident",
        "tcp-backlog",
        "unixsocket",
        "unixsocketperm",
    ];
    let protected = ["dbfilename", "dir"];
    for d in DIRECTIVES.iter().filter(|d| d.is_runtime()) {
        for n in std::iter::once(&d.name).chain(d.aliases) {
            assert_eq!(d.has(Directive::IMMUTABLE), immutable.contains(n), "{n}");
            assert_eq!(d.has(Directive::PROTECTED), protected.contains(n), "{n}");
        }
    }
}

#[test]
fn implemented_flags() {
    for n in [
        "port",
        "bind",
        "maxmemory",
        "hz",
        "client-output-buffer-limit",
        "include",
        "lua-time-limit",
        "appendonly",
        "appendfsync",
        "replicaof",
        "slaveof",
        "masterauth",
    ] {
        assert!(Config::is_implemented(n), "{n}");
    }
    for n in [
        "aof-rewrite-incremental-fsync",
        "cluster-enabled",
        "cluster-node-timeout",
        "rename-command",
        "nosuch",
    ] {
        assert!(!Config::is_implemented(n), "{n}");
    }
}

// ---------------------------------------------------------------- files

#[test]
fn file_syntax() {
    let cfg = text(
        "# comment\n\n   # indented comment\nPORT 7000\n  maxmemory   1GB  \r\nbind 127.0.0.1 -::1\n\
         requirepass \"a b\\x41\\n\"\nmasteruser 'it\\'s'\nprotected-mode No\nloglevel WARNING\n\
         hash-max-ziplist-entries 100\nlua-time-limit 100\n",
    );
    assert_eq!(cfg.port, 7000);
    assert_eq!(cfg.maxmemory, 1 << 30);
    assert_eq!(cfg.bind, ["127.0.0.1", "-::1"]);
    assert_eq!(cfg.requirepass, "a bA\n");
    assert_eq!(cfg.masteruser, "it's");
    assert!(!cfg.protected_mode);
    assert_eq!(cfg.loglevel, LogLevel::Warning);
    assert_eq!(cfg.hash_max_listpack_entries, 100);
    assert_eq!(cfg.busy_reply_threshold, 100);
}

#[test]
fn memory_units() {
    for (v, n) in [
        ("1k", 1000),
        ("1kb", 1024),
        ("1m", 1_000_000),
        ("1mb", 1 << 20),
        ("1g", 1_000_000_000),
        ("1gb", 1 << 30),
        ("1Mb", 1 << 20),
    ] {
        assert_eq!(text(&format!("maxmemory {v}")).maxmemory, n, "{v}");
    }
    assert_eq!(err_msg("maxmemory 10x"), "argument must be a memory value");
}

#[test]
fn repeated_directives() {
    let cfg = text("port 1\nport 2\nbind 127.0.0.1\nbind ::1\n");
    assert_eq!(cfg.port, 2);
    assert_eq!(cfg.bind, ["::1"], "bind lines do not add up");

    // save: the first line replaces the defaults, later lines add.
    assert_eq!(get1(&text("save 100 1\nsave 200 2\n"), "save"), "100 1 200 2");
    assert_eq!(get1(&text(""), "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&text("save \"\"\nsave 100 1\n"), "save"), "100 1");
    assert_eq!(get1(&text("save 100 1\nsave \"\"\n"), "save"), "");
    assert_eq!(get1(&text("save\n"), "save"), "");
    assert_eq!(get1(&text("save \"100 1  200 2\"\n"), "save"), "100 1 200 2");
    assert_eq!(err_msg("save 100 1 \"\""), "Invalid save parameters");
    assert_eq!(err_msg("save \"100 1\" \"200 2\""), "Invalid save parameters");

    // client-output-buffer-limit: per class.
    let cfg =
        text("client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 1mb 2mb 3 pubsub 1 2 3\n");
    assert_eq!(
        get1(&cfg, "client-output-buffer-limit"),
        "normal 0 0 0 slave 1048576 2097152 3 pubsub 1 2 3"
    );
    assert_eq!(
        cfg.client_output_buffer_limit[ClientClass::Replica.index()],
        ObufLimit {
            hard: 1 << 20,
            soft: 2 << 20,
            soft_seconds: 3
        }
    );

    let cfg = text("rename-command FLUSHALL \"\"\nrename-command CONFIG xyz\n");
    assert_eq!(
        cfg.rename_command,
        [
            RenameCommand {
                from: "FLUSHALL".into(),
                to: "".into()
            },
            RenameCommand {
                from: "CONFIG".into(),
                to: "xyz".into()
            }
        ]
    );
    let cfg = text("user alice on >pw ~* +@all\nloadmodule /x.so a b\n");
    assert_eq!(cfg.user, [args(&["alice", "on", ">pw", "~*", "+@all"])]);
    assert_eq!(cfg.loadmodule, [args(&["/x.so", "a", "b"])]);
}

#[test]
fn multi_arg_values_in_one_argument() {
    let cfg = text(
        "bind \"127.0.0.1 ::1\"\noom-score-adj-values \"1 2 3\"\nshutdown-on-sigterm \"nosave now\"\n\
         client-output-buffer-limit \"pubsub 1 2 3\"\nlatency-tracking-info-percentiles \"50  99 \"\n",
    );
    assert_eq!(cfg.bind, ["127.0.0.1", "::1"]);
    assert_eq!(cfg.oom_score_adj_values, [1, 2, 3]);
    assert_eq!(get1(&cfg, "shutdown-on-sigterm"), "nosave now");
    assert_eq!(get1(&cfg, "latency-tracking-info-percentiles"), "50 99");
    assert!(text("bind\n").bind.is_empty());
    assert!(text("latency-tracking-info-percentiles\n")
        .latency_tracking_info_percentiles
        .is_empty());
    assert_eq!(
        text("client-output-buffer-limit\n").client_output_buffer_limit,
        Config::default().client_output_buffer_limit
    );
}

#[test]
fn special_values() {
    let cfg = text(
        "unixsocketperm 0644\nreplicaof 127.0.0.1 6390\nnotify-keyspace-events KEA\nhz 0\nmaxmemory-clients 10%\n",
    );
    assert_eq!(cfg.unixsocketperm, 0o644);
    assert_eq!(get1(&cfg, "unixsocketperm"), "644");
    assert_eq!(
        cfg.replicaof,
        Some(ReplicaOf {
            host: "127.0.0.1".into(),
            port: 6390
        })
    );
    assert_eq!(get1(&cfg, "slaveof"), "127.0.0.1 6390");
    assert_eq!(get1(&cfg, "notify-keyspace-events"), "AKE");
    assert!(cfg
        .notify_keyspace_events
        .contains(KeyspaceEvents::KEYSPACE | KeyspaceEvents::STRING));
    assert_eq!(cfg.hz, 1);
    assert_eq!(text("hz 1000").hz, 500);
    assert_eq!(cfg.maxmemory_clients, ClientsMemLimit::Percent(10));
    assert_eq!(text("replicaof NO ONE").replicaof, None);
    assert_eq!(text("slaveof a 1\nreplicaof no one").replicaof, None);
    assert_eq!(text("replicaof 127.0.0.1 0").replicaof.unwrap().port, 0);
    assert_eq!(
        text("maxmemory-clients 18446744073709551615").maxmemory_clients,
        ClientsMemLimit::Percent(1)
    );
    assert_eq!(
        get1(&text("shutdown-on-sigint \"default now\""), "shutdown-on-sigint"),
        "now"
    );
}

#[test]
fn errors_match_redis() {
    // Texts observed from redis-server 7.0.15 at start-up.
    let cases = [
        ("foo bar", "Bad directive or wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("port 6379 6380", "wrong number of arguments"),
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 70000", "argument must be between 0 and 65535 inclusive"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("loglevel", "wrong number of arguments"),
        ("bind \"127.0.0.1", "Unbalanced quotes in configuration line"),
        ("bind \"127.0.0.1\"x", "Unbalanced quotes in configuration line"),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("save 100", "Invalid save parameters"),
        ("databases 0", "argument must be between 1 and 2147483647 inclusive"),
        (
            "maxmemory-policy foo",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
        ),
        ("client-output-buffer-limit normal 1 2", "Wrong number of arguments in buffer limit configuration."),
        ("client-output-buffer-limit foo 1 2 3", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit normal 1 2 x", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("replicaof a", "wrong number of arguments"),
        ("replicaof a b", "Invalid master port"),
        ("replicaof a 99999", "Invalid master port"),
        ("replicaof a 1 2", "wrong number of arguments"),
        ("oom-score-adj-values 1 2", "wrong number of arguments"),
        ("oom-score-adj-values", "wrong number of arguments"),
        ("oom-score-adj-values 1 2 x", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ("notify-keyspace-events Q", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("notify-keyspace-events", "wrong number of arguments"),
        ("latency-tracking-info-percentiles 101", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        ("dir /nonexistent-shoal-dir", "No such file or directory"),
        ("dir /etc/passwd", "Not a directory"),
        ("dir", "wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        ("include a b", "Bad directive or wrong number of arguments"),
        ("rename-command a", "Bad directive or wrong number of arguments"),
        ("user", "Bad directive or wrong number of arguments"),
        ("loadmodule", "Bad directive or wrong number of arguments"),
        ("sentinel foo", "sentinel directive while not in sentinel mode"),
        ("list-max-ziplist-entries", "Bad directive or wrong number of arguments"),
        ("lua-replicate-commands a b c", "Bad directive or wrong number of arguments"),
        ("set-max-intset-entries -1", "argument must be between 0 and 9223372036854775807 inclusive"),
        ("maxmemory-clients 101%", "percentage argument must be less or equal to 100"),
        ("unixsocketperm 9", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1777", "argument must be between 0 and 777 inclusive"),
        ("shutdown-on-sigterm save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("shutdown-on-sigterm", "argument(s) must be one of the following: default, save, nosave, now, force"),
        ("appenddirname \"\"", "appenddirname can't be empty"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("dbfilename \"a\\\\b\"", "dbfilename can't be a path, just a filename"),
        ("cluster-announce-hostname a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ("proc-title-template {title}", "template format is invalid or contains unknown variables"),
        ("hz 5 # comment", "wrong number of arguments"),
    ];
    for (line, msg) in cases {
        assert_eq!(err_msg(line), msg, "{line}");
    }
    // Accepted and ignored, like Redis.
    for line in [
        "list-max-ziplist-entries 5",
        "list-max-ziplist-value 5",
        "lua-replicate-commands yes",
        "rename-command get \"\"",
    ] {
        text(line);
    }
}

#[test]
fn error_text_is_redis_plus_source() {
    let err = Config::from_text("# c\nfoo bar\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\n"
    );
    let err = Config::from_text("\tfoo\tbar  \n").unwrap_err();
    assert!(err.to_string().contains(">>> 'foo\tbar'\n"));
    let err = Config::from_text("  port   abc   \n").unwrap_err();
    assert!(err.to_string().contains(">>> 'port   abc'\n"));

    let dir = temp_dir("errtext");
    let f = dir.join("bad.conf");
    std::fs::write(&f, "# c\nfoo bar\n").unwrap();
    let err = Config::from_args(&args(&[f.to_str().unwrap()])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\nSource: file {}\n",
            f.display()
        )
    );
    assert_eq!(err.exit_code(), 1);
    let err = Config::from_text("cluster-enabled yes\nreplicaof 127.0.0.1 1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode\n"
    );
}

#[test]
fn includes() {
    let dir = temp_dir("include");
    std::fs::create_dir_all(dir.join("inc")).unwrap();
    std::fs::write(dir.join("inc/hz.conf"), "hz 20\n").unwrap();
    std::fs::write(dir.join("inc/bad.conf"), "port 0\nfoo bar\n").unwrap();
    std::fs::write(dir.join("inc/self.conf"), "include inc/self.conf\n").unwrap();
    let d = dir.display();
    assert_eq!(text(&format!("dir {d}\nhz 5\ninclude inc/hz.conf\n")).hz, 20);
    assert_eq!(text(&format!("dir {d}\ninclude inc/hz.conf\nhz 5\n")).hz, 5);
    // Relative to `dir` as it is at the include line (redis-server chdirs).
    assert_eq!(text(&format!("dir {d}/inc\ninclude hz.conf\n")).hz, 20);
    assert_eq!(text(&format!("include {d}/inc/hz.conf\n")).hz, 20);
    // A directory reads as an empty file.
    text(&format!("include {d}/inc\n"));

    match Config::from_text(&format!("dir {d}\n\ninclude inc/bad.conf\n")) {
        Err(ConfigError::Directive {
            line: 2,
            text,
            source: Some(Source::File(p)),
            ..
        }) => {
            assert_eq!(text, "foo bar");
            assert_eq!(p, dir.join("inc/bad.conf"));
        }
        other => panic!("{other:?}"),
    }
    let err = Config::from_text("include /nonexistent-shoal.conf\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Fatal error, can't open config file '/nonexistent-shoal.conf': No such file or directory"
    );
    match Config::from_text(&format!("dir {d}\ninclude inc/self.conf\n")) {
        Err(ConfigError::Directive { msg, .. }) => assert_eq!(msg, "Too many nested includes"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn debian_redis_conf() {
    let path = Path::new("/etc/redis/redis.conf");
    if !path.exists() {
        return;
    }
    let text = std::fs::read_to_string(path).unwrap();
    // Parse the text (from_args would also check that the log file can be
    // opened, which depends on the machine).
    let cfg = Config::from_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cfg.bind.is_empty());
    assert_eq!(
        cfg.client_output_buffer_limit[ClientClass::Pubsub.index()].hard,
        32 << 20
    );
    // Everything the file sets to a non-default value that shoal lacks is
    // reported, and nothing it implements.
    for name in cfg.unsupported_in_use() {
        assert!(!Config::is_implemented(&name), "{name}");
    }
}

// ---------------------------------------------------------------- command line

#[test]
fn command_line_overrides_file() {
    let dir = temp_dir("args");
    let f = dir.join("a.conf");
    std::fs::write(&f, "port 1\nsave 100 1\nloglevel debug\n").unwrap();
    let cfg = Config::from_args(&args(&[
        f.to_str().unwrap(),
        "--port",
        "7000",
        "--save",
        "300",
        "3",
        "--bind",
        "1.2.3.4",
        "5.6.7.8",
    ]))
    .unwrap();
    assert_eq!(cfg.port, 7000);
    assert_eq!(get1(&cfg, "save"), "100 1 300 3", "file and options are one text");
    assert_eq!(cfg.loglevel, LogLevel::Debug);
    assert_eq!(cfg.bind, ["1.2.3.4", "5.6.7.8"]);
    assert_eq!(cfg.config_file(), Some(f.as_path()));

    let cfg = Config::from_args(&args(&["--port", "0", "--save"])).unwrap();
    assert_eq!(get1(&cfg, "save"), "");
    assert!(cfg.config_file().is_none());
    let cfg = Config::from_args(&args(&["--save", "--port", "5"])).unwrap();
    assert_eq!((get1(&cfg, "save").as_str(), cfg.port), ("", 5));
    let cfg = Config::from_args(&args(&["--requirepass", "--secret", "--port", "5"])).unwrap();
    assert_eq!(cfg.requirepass, "--secret");
    let cfg = Config::from_args(&args(&["--port 6380", "--PORT", "6381"])).unwrap();
    assert_eq!(cfg.port, 6381);
    let cfg = Config::from_args(&args(&["--maxmemory-policy", "allkeys-lru"])).unwrap();
    assert_eq!(cfg.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert!(Config::from_args(&[]).is_ok());
}

#[test]
fn command_line_text_and_line_numbers() {
    // Line numbers and echoed lines as redis-server prints them.
    let cases: &[(&[&str], usize, &str)] = &[
        (&["--port", "0", "--foo"], 3, "foo"),
        (
            &["--port", "0", "--requirepass", "--secret", "--foo", "x"],
            4,
            "foo \"x\"",
        ),
        (&["--save", "--port", "0", "--foo", "x"], 4, "foo \"x\""),
        (&["--port", "0", "--foo", "a b\"c\\n"], 3, "foo \"a b\\\"c\\\\n\""),
        (&["--port", "0", "/tmp/x.conf"], 2, "port \"0\" \"/tmp/x.conf\""),
        (
            &["--port", "0", "--bind", "1.2.3.4", "5.6.7.8", "--foo", "\u{1}"],
            4,
            "foo \"\\x01\"",
        ),
        (&["--PORT", "0", "--Foo"], 3, "Foo"),
        (&["-x", "--port", "0"], 2, "\"-x\""),
        (&["--port", "0", "-v"], 2, "port \"0\" \"-v\""),
        (&["--port", "0", "--version"], 3, "version"),
    ];
    for (argv, line, echoed) in cases {
        match from_args_stdin(argv, "") {
            Err(ConfigError::Directive {
                line: l, text, source, ..
            }) => {
                assert_eq!((l, text.as_str()), (*line, *echoed), "{argv:?}");
                assert_eq!(source, Some(Source::CommandLine));
            }
            other => panic!("{argv:?}: {other:?}"),
        }
    }
}

#[test]
fn command_line_with_file_and_stdin() {
    let dir = temp_dir("stdin");
    let f1 = dir.join("f1.conf");
    std::fs::write(&f1, "port 0").unwrap();
    let f2 = dir.join("f2.conf");
    std::fs::write(&f2, "port 0\n").unwrap();
    let (f1, f2) = (f1.to_str().unwrap(), f2.to_str().unwrap());
    let line_of = |r: Result<Config, ConfigError>| match r {
        Err(ConfigError::Directive { line, text, source, .. }) => (line, text, source),
        other => panic!("{other:?}"),
    };
    assert_eq!(line_of(from_args_stdin(&[f1, "--foo"], "")).0, 2);
    let (l, t, s) = line_of(from_args_stdin(&[f2, "-"], "bar\n"));
    assert_eq!((l, t.as_str(), s), (2, "bar", Some(Source::Stdin)));
    // "-" in the middle is an argument.
    let (l, t, _) = line_of(from_args_stdin(&[f2, "-", "--foo"], ""));
    assert_eq!((l, t.as_str()), (3, "\"-\""));
    assert_eq!(line_of(from_args_stdin(&["-", "--port", "0", "--foo"], "")).0, 3);
    let cfg = from_args_stdin(&[f2, "--port", "7", "-"], "maxmemory 1mb\nport 9\n").unwrap();
    assert_eq!((cfg.port, cfg.maxmemory), (7, 1 << 20));
    let cfg = from_args_stdin(&["-"], "port 9\n").unwrap();
    assert_eq!(cfg.port, 9);

    assert_eq!(
        Config::from_args(&args(&["/nonexistent-shoal.conf"]))
            .unwrap_err()
            .to_string(),
        "Fatal error, can't open config file '/nonexistent-shoal.conf': No such file or directory"
    );
}

#[test]
fn version_and_help() {
    assert_eq!(Config::from_args(&args(&["-v"])).unwrap_err(), ConfigError::Version);
    assert_eq!(
        Config::from_args(&args(&["--version", "--port", "1"])).unwrap_err(),
        ConfigError::Version
    );
    assert_eq!(Config::from_args(&args(&["-h"])).unwrap_err(), ConfigError::Help);
    assert_eq!(Config::from_args(&args(&["--help"])).unwrap_err(), ConfigError::Help);
    assert_eq!(ConfigError::Version.exit_code(), 0);
    assert_eq!(ConfigError::Help.exit_code(), 1);
    assert!(ConfigError::Help
        .to_string()
        .starts_with("Usage: shoal-server [/path/to/redis.conf] [options] [-]\n"));
    assert!(matches!(
        Config::from_args(&args(&["--port", "1", "--sentinel"])),
        Err(ConfigError::Unsupported(_))
    ));
    let cl = parse_command_line(&args(&["a.conf", "--port", "1", "-"])).unwrap();
    assert_eq!(
        (cl.config_file.as_deref(), cl.read_stdin, cl.options.as_str()),
        (Some("a.conf"), true, "port \"1\" ")
    );
}

#[test]
fn logfile_checked_at_start_up() {
    let err = Config::from_args(&args(&["--logfile", "/nonexistent-shoal-dir/x.log"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory\n"
    );
    let dir = temp_dir("logfile");
    let cfg = Config::from_args(&args(&["--dir", dir.to_str().unwrap(), "--logfile", "x.log"])).unwrap();
    assert_eq!(cfg.logfile, "x.log");
    assert!(!dir.join("x.log").exists(), "checking must not create the file");
}

// ---------------------------------------------------------------- CONFIG GET

#[test]
fn get_formats_like_redis() {
    let cfg = text("maxmemory 1mb\nappendonly yes\nsave 3600 1 300 100\n");
    let g = |p: &str| cfg.get(&[p.as_bytes()]);
    assert_eq!(g("maxmemory"), [("maxmemory".to_string(), "1048576".to_string())]);
    assert_eq!(g("appendonly")[0].1, "yes");
    assert_eq!(g("save")[0].1, "3600 1 300 100");
    assert_eq!(g("bind")[0].1, "* -::*");
    assert_eq!(
        g("client-output-buffer-limit")[0].1,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(g("replicaof")[0].1, "");
    assert_eq!(
        g("PORT"),
        [("PORT".to_string(), "6379".to_string())],
        "exact names keep the caller's spelling"
    );
    assert_eq!(g("P*RT"), [("port".to_string(), "6379".to_string())]);
    assert_eq!(g("p\\ort"), [], "a backslash alone does not make a pattern");
    assert_eq!(g("[p]ort").len(), 1);
    assert_eq!(
        g("*-delay"),
        [("repl-diskless-sync-delay".to_string(), "5".to_string())]
    );
    assert_eq!(g("nosuch"), []);
    assert_eq!(g("include"), []);
    let names: Vec<String> = g("hash-max-*").into_iter().map(|(k, _)| k).collect();
    for n in [
        "hash-max-listpack-entries",
        "hash-max-listpack-value",
        "hash-max-ziplist-entries",
        "hash-max-ziplist-value",
    ] {
        assert!(names.contains(&n.to_string()), "{n}");
    }
    assert_eq!(names.len(), 4);
    let both = cfg.get(&[b"slaveof", b"replicaof", b"SLAVEOF"]);
    assert_eq!(
        both.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["slaveof", "replicaof"]
    );
    let dedup = cfg.get(&[b"port", b"PORT", b"po*", b"*"]);
    assert_eq!(dedup.iter().filter(|(k, _)| k.eq_ignore_ascii_case("port")).count(), 1);
    assert_eq!(cfg.get(&[b"hz", b"*z"]).len(), 2);
    assert_eq!(
        text("latency-tracking-info-percentiles \"12.3456789 0.0000001 99.99999999 1.5e1\"")
            .get_one("latency-tracking-info-percentiles")
            .unwrap(),
        "12.345679 0 100 15"
    );
}

// ---------------------------------------------------------------- CONFIG SET

#[test]
fn set_errors_match_redis() {
    let mut cfg = Config::default();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("foo", "bar")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("FOO", "1")], "ERR Unknown option or number of arguments for CONFIG SET - 'FOO'"),
        (&[("include", "x")], "ERR Unknown option or number of arguments for CONFIG SET - 'include'"),
        (&[("list-max-ziplist-entries", "5")], "ERR Unknown option or number of arguments for CONFIG SET - 'list-max-ziplist-entries'"),
        (&[("maxmemory", "10x")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
        (&[("MAXMEMORY", "x")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
        (&[("daemonize", "no")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("DAEMONIZE", "no")], "ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config"),
        (&[("SLAVEOF", "a 1")], "ERR CONFIG SET failed (possibly related to argument 'SLAVEOF') - can't set immutable config"),
        (&[("DIR", "/tmp")], "ERR CONFIG SET failed (possibly related to argument 'DIR') - can't set protected config"),
        (&[("dbfilename", "a/b")], "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"),
        (&[("maxmemory", "1"), ("maxmemory", "2")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
        (&[("maxmemory", "1"), ("MAXMEMORY", "2")], "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"),
        (&[("Hz", "1"), ("HZ", "2")], "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"),
        (&[("maxmemory", "x"), ("maxmemory", "1")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
        (&[("maxmemory", "1"), ("maxmemory", "2"), ("daemonize", "no")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
        (&[("daemonize", "no"), ("foo", "1")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("maxmemory", "x"), ("daemonize", "no")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("maxmemory", "x"), ("foo", "1")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("foo", "1"), ("maxmemory", "1"), ("foo", "2")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("port", "70000")], "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive"),
        (&[("port", "abc")], "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"),
        (&[("hz", "+5")], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
        (&[("protected-mode", "maybe")], "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'"),
        (&[("protected-mode", "")], "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'"),
        (&[("loglevel", "loud")], "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        (&[("save", "100")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", "100 10  200 20 ")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", "0 1")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("Slave-Priority", "x")], "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
        (&[("client-output-buffer-limit", "normal 1 2")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."),
        (&[("client-output-buffer-limit", "normal  1 2 3")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."),
        (&[("client-output-buffer-limit", "normal 1 2 -3")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        (&[("bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17")], "ERR CONFIG SET failed (possibly related to argument 'bind') - Too many bind addresses specified."),
        (&[("notify-keyspace-events", "Q")], "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        (&[("oom-score-adj-values", "1 2")], "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments"),
        (&[("latency-tracking-info-percentiles", "50  99")], "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters"),
        (&[("maxmemory-clients", "101%")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"),
        (&[("maxmemory-clients", "9223372036854775808")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"),
        (&[("maxmemory-clients", "05%")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
        (&[("shutdown-on-sigterm", "")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - argument(s) must be one of the following: default, save, nosave, now, force"),
        (&[("shutdown-on-sigterm", "save nosave")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously"),
        (&[("proc-title-template", "{x}")], "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"),
        (&[("hash-max-listpack-value", "9223372036854775808")], "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-value') - argument must be between 0 and 9223372036854775807 inclusive"),
    ];
    let before = cfg.get(&[b"*"]);
    for (pairs, want) in cases {
        assert_eq!(set(&mut cfg, pairs).unwrap_err(), *want, "{pairs:?}");
    }
    assert_eq!(cfg.get(&[b"*"]), before, "failed sets change nothing");
    assert_eq!(
        cfg.set(&[]).unwrap_err(),
        "ERR wrong number of arguments for 'config|set' command"
    );
}

#[test]
fn set_is_atomic_and_reports_changes() {
    let mut cfg = Config::default();
    assert!(set(&mut cfg, &[("hz", "1"), ("maxmemory", "x")]).is_err());
    assert_eq!(cfg.hz, 10);
    assert_eq!(
        set(&mut cfg, &[("maxmemory", "1kb"), ("hz", "0"), ("port", "6379")]).unwrap(),
        ["maxmemory", "hz"]
    );
    assert_eq!((cfg.maxmemory, cfg.hz), (1024, 1));
    assert_eq!(set(&mut cfg, &[("hz", "1000")]).unwrap(), ["hz"]);
    assert_eq!(get1(&cfg, "hz"), "500");
    // An alias and its canonical name are not duplicates; the last wins.
    assert_eq!(
        set(
            &mut cfg,
            &[("hash-max-ziplist-entries", "1"), ("hash-max-listpack-entries", "2")]
        )
        .unwrap(),
        ["hash-max-listpack-entries"]
    );
    assert_eq!(cfg.hash_max_listpack_entries, 2);
    set(
        &mut cfg,
        &[("hash-max-listpack-entries", "3"), ("hash-max-ziplist-entries", "4")],
    )
    .unwrap();
    assert_eq!(cfg.hash_max_listpack_entries, 4);
}

#[test]
fn set_values_like_redis() {
    let mut cfg = Config::default();
    let s = |cfg: &mut Config, n: &str, v: &str| {
        set(cfg, &[(n, v)]).unwrap_or_else(|e| panic!("{n} {v}: {e}"));
        get1(cfg, n)
    };
    assert_eq!(s(&mut cfg, "maxmemory", "1K"), "1000");
    assert_eq!(s(&mut cfg, "maxmemory", ""), "0");
    assert_eq!(s(&mut cfg, "maxmemory", "05"), "5");
    assert_eq!(s(&mut cfg, "maxmemory", "20000000000gb"), "3028092406290448384");
    assert_eq!(
        s(&mut cfg, "maxmemory", "99999999999999999999999"),
        "18446744073709551615"
    );
    assert_eq!(s(&mut cfg, "maxmemory-policy", "ALLKEYS-LRU"), "allkeys-lru");
    assert_eq!(s(&mut cfg, "protected-mode", "YES"), "yes");
    assert_eq!(s(&mut cfg, "save", "100 10 200 20"), "100 10 200 20");
    assert_eq!(
        s(&mut cfg, "save", "01 1"),
        "1 1",
        "CONFIG SET replaces the save points"
    );
    assert_eq!(s(&mut cfg, "save", "1 "), "1 0");
    assert_eq!(s(&mut cfg, "save", "9999999999999999999 1"), "9223372036854775807 1");
    assert_eq!(s(&mut cfg, "save", ""), "");
    assert_eq!(
        s(&mut cfg, "client-output-buffer-limit", "replica 1 2 3 pubsub 4 5 6"),
        "normal 0 0 0 slave 1 2 3 pubsub 4 5 6"
    );
    assert_eq!(
        s(&mut cfg, "client-output-buffer-limit", "NORMAL 1mb 2mb +3"),
        "normal 1048576 2097152 3 slave 1 2 3 pubsub 4 5 6"
    );
    assert_eq!(
        s(&mut cfg, "client-output-buffer-limit", ""),
        "normal 1048576 2097152 3 slave 1 2 3 pubsub 4 5 6"
    );
    assert_eq!(s(&mut cfg, "notify-keyspace-events", "KEA"), "AKE");
    assert_eq!(s(&mut cfg, "oom-score-adj-values", "+1 01 -0"), "1 1 0");
    assert_eq!(s(&mut cfg, "oom-score-adj-values", "1 2 "), "1 2 0");
    assert_eq!(
        s(&mut cfg, "latency-tracking-info-percentiles", "50 99.99 100 0 1.5e1"),
        "50 99.99 100 0 15"
    );
    assert_eq!(s(&mut cfg, "latency-tracking-info-percentiles", ""), "");
    assert_eq!(s(&mut cfg, "maxmemory-clients", "10%"), "10%");
    assert_eq!(s(&mut cfg, "maxmemory-clients", "0%"), "0");
    assert_eq!(s(&mut cfg, "maxmemory-clients", "18446744073709551615"), "1%");
    assert_eq!(s(&mut cfg, "maxmemory-clients", "1mb"), "1048576");
    assert_eq!(s(&mut cfg, "shutdown-on-sigterm", "force save"), "save force");
    assert_eq!(s(&mut cfg, "shutdown-on-sigterm", "now now"), "now");
    assert_eq!(s(&mut cfg, "bind", "127.0.0.1 ::1"), "127.0.0.1 ::1");
    assert_eq!(s(&mut cfg, "bind", ""), "");
    assert_eq!(s(&mut cfg, "requirepass", "secret"), "secret");
    assert_eq!(cfg.requirepass, "secret");
}

#[test]
fn set_protected_dir() {
    let dir = temp_dir("setdir");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let mut cfg = text(&format!("enable-protected-configs local\ndir {}\n", dir.display()));
    let p = |n: &'static str, v: &'static str| [(n.as_bytes(), v.as_bytes())];
    assert!(cfg
        .set_from_client(&p("dir", "sub"), false)
        .unwrap_err()
        .contains("can't set protected config"));
    assert_eq!(cfg.set_from_client(&p("dir", "sub"), true).unwrap(), ["dir"]);
    assert_eq!(cfg.dir, dir.join("sub"));
    cfg.set_from_client(&p("dir", ".."), true).unwrap();
    assert_eq!(cfg.dir, dir);
    assert_eq!(
        cfg.set_from_client(&p("dir", "/nonexistent-shoal-dir"), true)
            .unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    assert_eq!(
        cfg.set_from_client(&p("dir", "/etc/passwd"), true).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory"
    );
    let mut cfg = text("enable-protected-configs yes\n");
    assert_eq!(
        cfg.set(&p("dbfilename", "a/b")).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
    );
    cfg.set(&p("dbfilename", "")).unwrap();
    assert_eq!(cfg.dbfilename, "");
}

// ---------------------------------------------------------------- unsupported

#[test]
fn unsupported_in_use_lists_set_unimplemented() {
    let cfg = text("port 7000\nappendonly yes\naof-rewrite-incremental-fsync no\nappendfsync everysec\ncluster-enabled yes\nsave \"\"\nrename-command FLUSHALL \"\"\nlist-max-ziplist-entries 5\nmaxmemory 1mb\n");
    assert_eq!(
        cfg.unsupported_in_use(),
        ["aof-rewrite-incremental-fsync", "cluster-enabled", "rename-command"]
    );
    assert!(Config::default().unsupported_in_use().is_empty());
    assert!(text("slaveof 127.0.0.1 6379\n").unsupported_in_use().is_empty());
}

// ---------------------------------------------------------------- CONFIG REWRITE

/// Sorts the lines after the last blank or signature line: redis-server
/// appends in hash order, shoal in table order.
fn normalize(s: &str) -> Vec<String> {
    let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
    let cut = lines
        .iter()
        .rposition(|l| l.is_empty() || l == REWRITE_SIGNATURE)
        .map_or(0, |i| i + 1);
    lines[cut..].sort();
    lines
}

fn assert_rewrite(cfg: &Config, input: &str, expected: &str) {
    let out = cfg.rewrite_text(input.as_bytes());
    assert_eq!(
        normalize(&out),
        normalize(expected),
        "\n--- got:\n{out}\n--- want:\n{expected}"
    );
    assert!(out.ends_with('\n'));
}

fn set_ok(cfg: &mut Config, pairs: &[(&str, &str)]) {
    set(cfg, pairs).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn rewrite_matches_redis_a() {
    let input = testdata("rewrite-a.in");
    let loadable: String = input
        .lines()
        .filter(|l| !l.starts_with("include") && !l.starts_with("dir"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut cfg = text(&loadable);
    cfg.slowlog_max_len = 200; // from the included file
    cfg.dir = PathBuf::from("/tmp/probe/rw");
    set_ok(
        &mut cfg,
        &[
            ("maxmemory", "200mb"),
            ("hz", "10"),
            ("timeout", "0"),
            ("slowlog-max-len", "300"),
            ("maxclients", "100"),
            ("latency-monitor-threshold", "5"),
            ("save", "300 3"),
        ],
    );
    assert_rewrite(&cfg, &input, &testdata("rewrite-a.out"));
}

#[test]
fn rewrite_matches_redis_b() {
    let mut cfg = text(&testdata("rewrite-b.in"));
    cfg.dir = PathBuf::from("/tmp/probe/rw");
    assert_rewrite(&cfg, &testdata("rewrite-b.in"), &testdata("rewrite-b1.out"));
    set_ok(
        &mut cfg,
        &[
            ("save", "3600 1 300 100"),
            ("maxmemory", "1536"),
            ("bind", "127.0.0.1 -::1"),
            ("masterauth", "a b"),
            ("hash-max-listpack-value", "2048"),
            ("client-output-buffer-limit", "pubsub 1gb 1 1"),
        ],
    );
    assert_rewrite(&cfg, &testdata("rewrite-b2.in"), &testdata("rewrite-b2.out"));
    set_ok(&mut cfg, &[("timeout", "5")]);
    assert_rewrite(&cfg, &testdata("rewrite-b3.in"), &testdata("rewrite-b3.out"));
    // Rewriting again without changes, as observed on redis-server: the
    // `normal` and then the `replica` class take the old
    // client-output-buffer-limit lines, so `pubsub` moves to the end...
    let once = cfg.rewrite_text(testdata("rewrite-b3.out").as_bytes());
    assert!(
        once.ends_with("timeout 5\nclient-output-buffer-limit replica 256mb 64mb 60\n\nclient-output-buffer-limit pubsub 1gb 1 1\n"),
        "{once}"
    );
    // ...then the old file's last newline becomes one blank line, and the
    // file is stable.
    let twice = cfg.rewrite_text(once.as_bytes());
    assert_eq!(twice, format!("{once}\n"));
    assert_eq!(cfg.rewrite_text(twice.as_bytes()), twice);
}

#[test]
fn rewrite_matches_redis_c_and_d() {
    let mut cfg = text(&testdata("rewrite-c.in"));
    cfg.dir = PathBuf::from("/tmp/probe/rw");
    set_ok(&mut cfg, &[("maxmemory", "0")]);
    assert_rewrite(&cfg, &testdata("rewrite-c.in"), &testdata("rewrite-c.out"));

    let mut cfg = text(&testdata("rewrite-d.in"));
    cfg.dir = PathBuf::from("/tmp/probe/rw");
    set_ok(
        &mut cfg,
        &[
            ("masterauth", ""),
            ("notify-keyspace-events", ""),
            ("maxmemory-clients", "10%"),
            ("oom-score-adj-values", "1 2 3"),
            ("hz", "11"),
            ("requirepass", "x\"y"),
            ("appendonly", "yes"),
        ],
    );
    assert_rewrite(&cfg, &testdata("rewrite-d.in"), &testdata("rewrite-d.out"));
}

#[test]
fn rewrite_details() {
    // Alias lines take the canonical name; extra lines for one directive go.
    let cfg = text("replica-priority 5\nslave-priority 7\n");
    assert!(cfg
        .rewrite_text(b"replica-priority 5\nslave-priority 7\n")
        .starts_with("replica-priority 7\n\n"));
    // Nullable strings set to "" lose their line; others keep `name ""`.
    let mut cfg = text("masterauth x\nsyslog-ident x\n");
    set_ok(&mut cfg, &[("masterauth", "")]);
    cfg.syslog_ident = String::new();
    let out = cfg.rewrite_text(b"masterauth x\nsyslog-ident x\n");
    assert!(out.starts_with("\nsyslog-ident \"\"\n"), "{out}");
    // Multi-flag enums, memory units, percent, octal, empty percentiles.
    let mut cfg = text("unixsocketperm 700\n");
    set_ok(
        &mut cfg,
        &[
            ("shutdown-on-sigterm", "nosave now"),
            ("client-query-buffer-limit", "2gb"),
            ("proto-max-bulk-len", "3mb"),
            ("latency-tracking-info-percentiles", ""),
            ("rdb-key-save-delay", "5"),
            ("save", ""),
        ],
    );
    let out = cfg.rewrite_text(b"unixsocketperm 700\n");
    for line in [
        "unixsocketperm 700",
        "shutdown-on-sigterm nosave now",
        "client-query-buffer-limit 2gb",
        "proto-max-bulk-len 3mb",
        "latency-tracking-info-percentiles \"\"",
        "rdb-key-save-delay 5",
        "save \"\"",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing in\n{out}");
    }
    // Unknown and deprecated lines are commented out; file-only ones stay.
    let cfg = text("list-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n");
    let out =
        cfg.rewrite_text(b"list-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\nnosuch 1\ninclude /x.conf\n");
    assert!(
        out.starts_with(
            "# ??? list-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n# ??? nosuch 1\ninclude /x.conf\n"
        ),
        "{out}"
    );
    // A new file starts with the signature.
    assert!(Config::default()
        .rewrite_text(b"")
        .starts_with("# Generated by CONFIG REWRITE\n"));
}

#[test]
fn rewrite_round_trip() {
    let dir = temp_dir("rewrite");
    let f = dir.join("redis.conf");
    std::fs::write(
        &f,
        format!(
            "# my config\nport 7001\n\n# memory\nmaxmemory 100mb\nsave 900 1\nsave 300 10\nbind 127.0.0.1\nrequirepass \"p w\"\n\
             client-output-buffer-limit pubsub 1mb 1mb 0\ndir {}\nlogfile \"\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let mut cfg = Config::from_args(&args(&[f.to_str().unwrap(), "--hz", "20"])).unwrap();
    set_ok(
        &mut cfg,
        &[
            ("maxmemory", "0"),
            ("maxmemory-policy", "allkeys-lfu"),
            ("save", "60 1000"),
            ("notify-keyspace-events", "Ex"),
            ("client-output-buffer-limit", "normal 1 2 3"),
            ("requirepass", "n\new\"\\"),
            ("latency-tracking-info-percentiles", "99 99.9"),
        ],
    );
    cfg.rewrite().unwrap();
    let written = std::fs::read_to_string(&f).unwrap();
    assert!(
        written.starts_with("# my config\nport 7001\n\n# memory\nmaxmemory 0\nsave 60 1000\n"),
        "{written}"
    );
    let again = Config::from_args(&args(&[f.to_str().unwrap()])).unwrap();
    assert_eq!(again.get(&[b"*"]), cfg.get(&[b"*"]));
    // Rewriting again keeps the values (the text may move lines around, as
    // redis-server's does).
    for _ in 0..3 {
        again.rewrite().unwrap();
        let third = Config::from_args(&args(&[f.to_str().unwrap()])).unwrap();
        assert_eq!(third.get(&[b"*"]), cfg.get(&[b"*"]));
    }
    assert!(written.contains("\nlogfile \"\"\n"));

    assert_eq!(
        Config::default().rewrite().unwrap_err(),
        "ERR The server is running without a config file"
    );
    let mut cfg = Config::default();
    cfg.set_config_file(Some(dir.clone()));
    assert_eq!(cfg.rewrite().unwrap_err(), "ERR Rewriting config file: Is a directory");
    // A missing file is created.
    let fresh = dir.join("new.conf");
    cfg.set_config_file(Some(fresh.clone()));
    cfg.rewrite().unwrap();
    assert!(std::fs::read_to_string(&fresh).unwrap().starts_with(REWRITE_SIGNATURE));
}
