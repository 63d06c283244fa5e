//! Server commands: INFO, CONFIG, DEBUG, TIME, LASTSAVE, SHUTDOWN, MONITOR.

use super::Ctx;

pub fn config_get(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn config_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn config_resetstat(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn config_rewrite(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn config_set(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn debug(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn info(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn lastsave(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn monitor(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn shutdown(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn time(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}
