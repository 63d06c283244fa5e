//! The `shoal-server` binary: `shoal-server [config-file] [--directive value ...]`.

#[global_allocator]
static ALLOC: shoal_server::alloc::Allocator = shoal_server::alloc::Allocator;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(shoal_server::startup::run(&args));
}
