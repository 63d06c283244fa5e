//! The `shoal-server` binary: `shoal-server [config-file] [--directive value ...]`.

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(shoal_server::startup::run(&args));
}
