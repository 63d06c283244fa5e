//! COMMAND, SLOWLOG, LATENCY and MEMORY.

use super::Ctx;

pub fn command_count(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn command_docs(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn command_getkeys(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn command_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn command_info(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn command_list(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn latency_doctor(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn latency_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn latency_history(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn latency_latest(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn latency_reset(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_doctor(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_malloc_stats(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_purge(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_stats(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn memory_usage(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn slowlog_get(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn slowlog_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn slowlog_len(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn slowlog_reset(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}
