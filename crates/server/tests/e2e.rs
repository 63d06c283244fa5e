//! End-to-end tests: start the real `shoal-server` binary on a free port and talk to
//! it with redis-rs, an independent client.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(extra: &[&str]) -> Server {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoal-server"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start shoal-server");
    let stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = BufReader::new(stdout).lines();
    loop {
        assert!(Instant::now() < deadline, "server did not become ready");
        match lines.next() {
            Some(Ok(l)) if l.contains("Ready to accept connections") => break,
            Some(_) => continue,
            None => panic!("server exited before it was ready"),
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, port }
}

fn client(s: &Server) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}/", s.port))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn strings_and_keyspace() {
    let s = start(&[]);
    let mut c = client(&s);
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    let n: i64 = redis::cmd("INCRBY").arg("n").arg(41).query(&mut c).unwrap();
    assert_eq!(n, 41);
    let n: i64 = redis::cmd("INCR").arg("n").query(&mut c).unwrap();
    assert_eq!(n, 42);
    let f: String = redis::cmd("INCRBYFLOAT").arg("f").arg("10.5").query(&mut c).unwrap();
    assert_eq!(f, "10.5");
    let f: String = redis::cmd("INCRBYFLOAT").arg("f").arg("0.1").query(&mut c).unwrap();
    assert_eq!(f, "10.6");
    let size: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(size, 3);
    let t: String = redis::cmd("TYPE").arg("k").query(&mut c).unwrap();
    assert_eq!(t, "string");
    let err = redis::cmd("INCR").arg("k").query::<i64>(&mut c).unwrap_err();
    assert_eq!(err.detail(), Some("value is not an integer or out of range"));
    let deleted: i64 = redis::cmd("DEL")
        .arg("k")
        .arg("n")
        .arg("missing")
        .query(&mut c)
        .unwrap();
    assert_eq!(deleted, 2);
}

#[test]
fn pipelines_of_any_depth() {
    let s = start(&[]);
    let mut c = client(&s);
    let mut p = redis::pipe();
    for i in 0..10_000 {
        p.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    p.cmd("DBSIZE");
    let (n,): (i64,) = p.query(&mut c).unwrap();
    assert_eq!(n, 10_000);
    let values: Vec<i64> = redis::cmd("MGET").arg("key:0").arg("key:9999").query(&mut c).unwrap();
    assert_eq!(values, vec![0, 9999]);
}

#[test]
fn expiry_is_lazy_and_active() {
    let s = start(&["--hz", "100"]);
    let mut c = client(&s);
    for i in 0..200 {
        let _: () = redis::cmd("SET")
            .arg(format!("t{i}"))
            .arg("x")
            .arg("PX")
            .arg(50)
            .query(&mut c)
            .unwrap();
    }
    let _: () = redis::cmd("SET").arg("keep").arg("x").query(&mut c).unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg("t0").query(&mut c).unwrap();
    assert!(ttl > 0 && ttl <= 50);
    // Active expiry must remove them without anyone reading them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "expired keys still counted: {n}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    assert!(info.contains("expired_keys:200"), "{info}");
}

#[test]
fn scan_visits_every_key() {
    let s = start(&[]);
    let mut c = client(&s);
    let mut p = redis::pipe();
    for i in 0..5000 {
        p.cmd("SET").arg(format!("s:{i}")).arg(1).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (next, keys): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("COUNT")
            .arg(100)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        // Keep inserting while scanning: tables grow under the cursor.
        let _: () = redis::cmd("SET")
            .arg(format!("extra:{next}"))
            .arg(1)
            .query(&mut c)
            .unwrap();
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!((0..5000).all(|i| seen.contains(&format!("s:{i}"))));
}

#[test]
fn requirepass_gates_commands() {
    let s = start(&["--requirepass", "sekret"]);
    let mut c = client(&s);
    let err = redis::cmd("GET").arg("k").query::<Option<String>>(&mut c).unwrap_err();
    assert_eq!(err.code(), Some("NOAUTH"));
    let err = redis::cmd("AUTH").arg("wrong").query::<String>(&mut c).unwrap_err();
    assert_eq!(err.code(), Some("WRONGPASS"));
    let ok: String = redis::cmd("AUTH").arg("sekret").query(&mut c).unwrap();
    assert_eq!(ok, "OK");
    let v: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, None);
}

#[test]
fn databases_select_swap_move() {
    let s = start(&[]);
    let mut c = client(&s);
    let _: () = redis::cmd("SET").arg("a").arg("0").query(&mut c).unwrap();
    let moved: i64 = redis::cmd("MOVE").arg("a").arg(3).query(&mut c).unwrap();
    assert_eq!(moved, 1);
    let _: () = redis::cmd("SWAPDB").arg(0).arg(3).query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(v, "0");
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 0);
    let err = redis::cmd("SELECT").arg(16).query::<String>(&mut c).unwrap_err();
    assert_eq!(err.detail(), Some("DB index is out of range"));
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shoal-e2e-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bad_directive_stops_startup_naming_the_line() {
    let dir = temp_dir("badconf");
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "port 7777\nno-such-directive yes\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shoal-server"))
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FATAL CONFIG FILE ERROR"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("no-such-directive yes"), "{err}");
}

#[test]
fn config_file_with_include_and_overrides_then_daemonize() {
    let dir = temp_dir("daemon");
    let port = free_port();
    let inc = dir.join("inc.conf");
    std::fs::write(&inc, "maxclients 77\n").unwrap();
    let conf = dir.join("main.conf");
    let pidfile = dir.join("shoal.pid");
    let logfile = dir.join("shoal.log");
    std::fs::write(
        &conf,
        format!(
            "# a comment\nport 1\nbind 127.0.0.1\ninclude {}\nmaxmemory 1mb\ndaemonize yes\npidfile \"{}\"\nlogfile '{}'\nloglevel verbose\n",
            inc.display(),
            pidfile.display(),
            logfile.display()
        ),
    )
    .unwrap();
    // The command line overrides the file's port.
    let status = Command::new(env!("CARGO_BIN_EXE_shoal-server"))
        .arg(&conf)
        .args(["--port", &port.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "the launching process exits 0 after forking");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        if let Ok(c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
        {
            break c;
        }
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let cfg: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut conn)
        .unwrap();
    assert_eq!(cfg, vec!["maxclients", "77"]);
    let cfg: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut conn)
        .unwrap();
    assert_eq!(cfg, vec!["maxmemory", "1048576"]);
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut conn);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "daemon did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pidfile.exists(), "pidfile removed on shutdown");
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Ready to accept connections tcp"), "{log}");
    // Redis's log line format: `pid:M dd Mon yyyy hh:mm:ss.mmm * message`.
    let first = log.lines().find(|l| l.contains("Ready to accept")).unwrap();
    let parts: Vec<&str> = first.splitn(3, ' ').collect();
    assert!(parts[0].ends_with(":M"), "{first}");
    assert!(first.contains(" * Ready"), "{first}");
}

#[test]
fn blpop_is_served_first_blocked_first_and_times_out() {
    let s = start(&[]);
    let mut first = client(&s);
    let mut second = client(&s);
    let mut pusher = client(&s);
    let t1 = std::thread::spawn(move || {
        let r: (String, String) = redis::cmd("BLPOP").arg("jobs").arg(0).query(&mut first).unwrap();
        r
    });
    // Make sure the first client is parked before the second one.
    let deadline = Instant::now() + Duration::from_secs(5);
    let blocked = |c: &mut redis::Connection| -> i64 {
        let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1)
    };
    while blocked(&mut pusher) < 1 {
        assert!(Instant::now() < deadline, "first client never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    let t2 = std::thread::spawn(move || {
        let r: (String, String) = redis::cmd("BLPOP").arg("jobs").arg(0).query(&mut second).unwrap();
        r
    });
    while blocked(&mut pusher) < 2 {
        assert!(Instant::now() < deadline, "second client never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    let n: i64 = redis::cmd("RPUSH")
        .arg("jobs")
        .arg("a")
        .arg("b")
        .arg("c")
        .query(&mut pusher)
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(t1.join().unwrap(), ("jobs".to_string(), "a".to_string()));
    assert_eq!(t2.join().unwrap(), ("jobs".to_string(), "b".to_string()));
    let rest: Vec<String> = redis::cmd("LRANGE")
        .arg("jobs")
        .arg(0)
        .arg(-1)
        .query(&mut pusher)
        .unwrap();
    assert_eq!(rest, vec!["c"]);

    let started = Instant::now();
    let r: Option<(String, String)> = redis::cmd("BRPOP").arg("none").arg("0.2").query(&mut pusher).unwrap();
    assert_eq!(r, None);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[test]
fn bgsave_without_fork_is_a_point_in_time_image() {
    let dir = temp_dir("bgsave");
    let dir_s = dir.display().to_string();
    let s = start(&["--dir", &dir_s, "--save", ""]);
    let mut c = client(&s);
    let mut p = redis::pipe();
    for i in 0..50_000 {
        p.cmd("SET").arg(format!("k{i}")).arg("old").ignore();
    }
    p.cmd("RPUSH").arg("list").arg("a").arg("b").ignore();
    let _: () = p.query(&mut c).unwrap();
    let started: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(started, "Background saving started");
    // Change, delete and add keys while the snapshot is being taken.
    let mut p = redis::pipe();
    for i in (0..50_000).step_by(2) {
        p.cmd("SET").arg(format!("k{i}")).arg("new").ignore();
    }
    p.cmd("DEL").arg("k1").arg("list").ignore();
    p.cmd("SET").arg("later").arg("x").ignore();
    let _: () = p.query(&mut c).unwrap();
    let dump = dir.join("dump.rdb");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dump.exists() {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(c);
    drop(s);
    // A fresh server loads the image: every value as it was at BGSAVE time.
    let s = start(&["--dir", &dir_s, "--save", ""]);
    let mut c = client(&s);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 50_001);
    let v: Vec<String> = redis::cmd("MGET")
        .arg("k0")
        .arg("k1")
        .arg("k49998")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec!["old", "old", "old"]);
    let later: Option<String> = redis::cmd("GET").arg("later").query(&mut c).unwrap();
    assert_eq!(later, None);
    let list: Vec<String> = redis::cmd("LRANGE").arg("list").arg(0).arg(-1).query(&mut c).unwrap();
    assert_eq!(list, vec!["a", "b"]);
}
