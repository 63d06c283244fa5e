//! Builds the small C helper used by `num` for `long double` arithmetic and for
//! parsing numbers exactly like the C library does.

fn main() {
    println!("cargo:rerun-if-changed=csrc/longdouble.c");
    cc::Build::new()
        .file("csrc/longdouble.c")
        .opt_level(2)
        .warnings(true)
        .extra_warnings(true)
        .compile("shoal_util_c");
}
