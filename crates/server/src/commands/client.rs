//! CLIENT subcommands.

use super::Ctx;

pub fn getname(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn help(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn id(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn info(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn kill(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn list(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn no_evict(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn pause(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn reply(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn setinfo(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn setname(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}

pub fn unpause(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().error("ERR not implemented yet");
}
