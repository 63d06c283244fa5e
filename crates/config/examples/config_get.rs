//! Prints what `CONFIG GET *` would answer for a `shoal-server` command line,
//! one `name<TAB>value` per line, sorted; then the directives set but not
//! implemented yet on stderr. Handy to compare with redis-server:
//!
//! ```text
//! cargo run -p shoal-config --example config_get -- /etc/redis/redis.conf --port 7000
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match shoal_config::Config::from_args(&args) {
        Ok(cfg) => {
            let mut pairs = cfg.get(&[b"*"]);
            pairs.sort();
            for (k, v) in pairs {
                println!("{k}\t{v}");
            }
            eprintln!("not implemented yet: {:?}", cfg.unsupported_in_use());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(e.exit_code());
        }
    }
}
