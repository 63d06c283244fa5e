//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Lua 5.1
//! semantics as Redis runs them.
//!
//! One Lua state lives for the server's lifetime (taken out of `Server` while a
//! script runs, so `redis.call` can borrow the server). `redis.call` runs a
//! command through the normal dispatcher on a script client that shares the
//! caller's database, then converts the RESP reply to Lua values; the script's
//! result is converted back the way Redis does (numbers truncate to integers,
//! `false` is nil, `{ok=..}`/`{err=..}` are status and error replies).
//! Scripts cannot create globals. Not yet: script timeouts (SCRIPT KILL,
//! BUSY), RESP3 in scripts (`redis.setresp(3)`), cjson/cmsgpack/bit/struct,
//! and replication/AOF of script effects (there is no replication yet).

use super::{eq_ic, err, help_reply, Ctx};
use crate::client::ClientState;
use crate::dispatch::execute;
use crate::server::Server;
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use shoal_resp::{Frame, Reply};
use shoal_util::sha1::sha1_hex;

/// Script state kept by the server: the Lua interpreter and loaded bodies.
#[derive(Default)]
pub struct Scripts {
    lua: Option<Lua>,
    bodies: std::collections::HashMap<String, Vec<u8>>,
}

/// Creates the interpreter: Redis's `redis` table, and `_G` made read-only.
fn new_lua() -> mlua::Result<Lua> {
    let lua = Lua::new();
    lua.load(
        r#"
        redis = {}
        redis.LOG_DEBUG = 0
        redis.LOG_VERBOSE = 1
        redis.LOG_NOTICE = 2
        redis.LOG_WARNING = 3
        function redis.error_reply(e) return {err = e} end
        function redis.status_reply(s) return {ok = s} end
        local readonly = function() error("Attempt to modify a readonly table", 2) end
        setmetatable(_G, {__newindex = readonly})
        "#,
    )
    .set_name("@shoal_init")
    .exec()?;
    let redis: Table = lua.globals().get("redis")?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|_, s: mlua::String| Ok(sha1_hex(&s.as_bytes())))?,
    )?;
    redis.raw_set(
        "log",
        lua.create_function(|_, (level, msg): (i64, mlua::String)| {
            let level = match level {
                0 => crate::log::Level::Debug,
                1 => crate::log::Level::Verbose,
                2 => crate::log::Level::Notice,
                _ => crate::log::Level::Warning,
            };
            crate::log::log(level, &String::from_utf8_lossy(&msg.as_bytes()));
            Ok(())
        })?,
    )?;
    // There is no replication yet, so there is nothing for set_repl to select.
    redis.raw_set("set_repl", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(lua)
}

/// Converts a RESP2 reply to the Lua value Redis gives scripts.
fn frame_to_lua(lua: &Lua, f: Frame) -> mlua::Result<LuaValue> {
    Ok(match f {
        Frame::Integer(i) => LuaValue::Number(i as f64),
        Frame::Bulk(b) | Frame::Verbatim(_, b) => LuaValue::String(lua.create_string(&b)?),
        Frame::Null => LuaValue::Boolean(false),
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(&s)?)?;
            LuaValue::Table(t)
        }
        Frame::Error(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(&e)?)?;
            LuaValue::Table(t)
        }
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let t = lua.create_table()?;
            for (i, it) in items.into_iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, it)?)?;
            }
            LuaValue::Table(t)
        }
        Frame::Map(pairs) => {
            let t = lua.create_table()?;
            let mut i = 1;
            for (k, v) in pairs {
                t.raw_set(i, frame_to_lua(lua, k)?)?;
                t.raw_set(i + 1, frame_to_lua(lua, v)?)?;
                i += 2;
            }
            LuaValue::Table(t)
        }
        Frame::Double(d) | Frame::BigNumber(d) => LuaValue::String(lua.create_string(&d)?),
        Frame::Boolean(b) => LuaValue::Number(b as i64 as f64),
    })
}

/// Writes a script's Lua result as a RESP reply, Redis's way.
fn lua_to_reply(v: &LuaValue, out: &mut Reply) {
    match v {
        LuaValue::Nil => out.null(),
        LuaValue::Boolean(true) => out.int(1),
        LuaValue::Boolean(false) => out.null(),
        LuaValue::Integer(i) => out.int(*i),
        LuaValue::Number(n) => out.int(*n as i64),
        LuaValue::String(s) => out.bulk(&s.as_bytes()),
        LuaValue::Table(t) => {
            if let Ok(LuaValue::String(e)) = t.raw_get::<LuaValue>("err") {
                // Redis sends the text as it is, whatever its first word.
                out.error(&String::from_utf8_lossy(&e.as_bytes()));
                return;
            }
            if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>("ok") {
                out.simple(&String::from_utf8_lossy(&s.as_bytes()));
                return;
            }
            // An array up to the first nil.
            let mut items = Vec::new();
            let mut i = 1;
            while let Ok(v) = t.raw_get::<LuaValue>(i) {
                if matches!(v, LuaValue::Nil) {
                    break;
                }
                items.push(v);
                i += 1;
            }
            out.array(items.len());
            for it in &items {
                lua_to_reply(it, out);
            }
        }
        _ => out.null(),
    }
}

/// Error replies need a code; Redis adds `ERR` when the text has none.
fn with_code(text: &str) -> String {
    let first = text.split(' ').next().unwrap_or("");
    if !first.is_empty() && first.chars().all(|c| c.is_ascii_uppercase()) {
        text.to_string()
    } else {
        format!("ERR {text}")
    }
}

/// Where an error carries Redis's "script: <sha>, on @user_script:<line>." tail.
const TAIL_MARK: &str = " script: ";

fn script_tail(sha: &str, line: i64) -> String {
    format!("{TAIL_MARK}{sha}, on @user_script:{line}.")
}

/// The current line of the running script, for error messages.
fn current_line(lua: &Lua) -> i64 {
    lua.inspect_stack(1).map_or(0, |d| d.curr_line() as i64)
}

/// KEYS and ARGV of a script call.
type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// Parses `numkeys key... arg...`, replying the error if invalid.
fn keys_and_args<'a>(ctx: &mut Ctx, args: &[&'a [u8]]) -> Option<KeysAndArgs<'a>> {
    let Some(n) = super::parse_int(args[2]) else {
        ctx.out().error(err::NOT_INT);
        return None;
    };
    if n < 0 {
        ctx.out().error("ERR Number of keys can't be negative");
        return None;
    }
    let rest = &args[3..];
    if n as usize > rest.len() {
        ctx.out()
            .error("ERR Number of keys can't be greater than number of args");
        return None;
    }
    Some((rest[..n as usize].to_vec(), rest[n as usize..].to_vec()))
}

fn eval_generic(ctx: &mut Ctx, args: &[&[u8]], by_sha: bool, read_only: bool) {
    let Some((keys, argv)) = keys_and_args(ctx, args) else {
        return;
    };
    let (sha, body) = if by_sha {
        let sha = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
        match ctx.srv.scripts.bodies.get(&sha) {
            Some(b) => (sha, b.clone()),
            None => {
                ctx.out().error("NOSCRIPT No matching script. Please use EVAL.");
                return;
            }
        }
    } else {
        let sha = sha1_hex(args[1]);
        ctx.srv
            .scripts
            .bodies
            .entry(sha.clone())
            .or_insert_with(|| args[1].to_vec());
        (sha, args[1].to_vec())
    };
    let lua = match ctx.srv.scripts.lua.take() {
        Some(l) => l,
        None => match new_lua() {
            Ok(l) => l,
            Err(e) => {
                ctx.out().error(&format!("ERR Error creating the Lua interpreter: {e}"));
                return;
            }
        },
    };
    run_script(ctx, &lua, &sha, &body, &keys, &argv, read_only);
    ctx.srv.scripts.lua = Some(lua);
}

/// Compiles (once per SHA) and runs a script, writing its reply.
fn run_script(ctx: &mut Ctx, lua: &Lua, sha: &str, body: &[u8], keys: &[&[u8]], argv: &[&[u8]], read_only: bool) {
    let func_name = format!("f_{sha}");
    let cached: mlua::Result<mlua::Function> = lua.named_registry_value(&func_name);
    let func = match cached {
        Ok(f) => f,
        Err(_) => match lua.load(body).set_name("@user_script").into_function() {
            Ok(f) => {
                let _ = lua.set_named_registry_value(&func_name, f.clone());
                f
            }
            Err(e) => {
                ctx.out().error(&format!(
                    "ERR Error compiling script (new function): {}",
                    lua_message(&e)
                ));
                return;
            }
        },
    };
    let set_table = |name: &str, items: &[&[u8]]| -> mlua::Result<()> {
        let t = lua.create_table()?;
        for (i, it) in items.iter().enumerate() {
            t.raw_set(i + 1, lua.create_string(it)?)?;
        }
        lua.globals().raw_set(name, t)
    };
    if set_table("KEYS", keys).and_then(|_| set_table("ARGV", argv)).is_err() {
        ctx.out().error("ERR Error preparing the script arguments");
        return;
    }
    // The script's own client: the caller's database, never blocking.
    let mut script_client = ClientState::new(0, ctx.client.addr, ctx.client.laddr, ctx.now());
    script_client.db = ctx.client.db;
    script_client.authenticated = true;
    // Commands of the script are checked against the caller's ACL user.
    script_client.user = ctx.client.user.clone();
    script_client.in_exec = true;
    let state = std::cell::RefCell::new((&mut *ctx.srv, &mut script_client));
    let result = lua.scope(|scope| {
        let call = |raise: bool| {
            let state = &state;
            scope.create_function_mut(move |lua, args: MultiValue| {
                let mut guard = state.borrow_mut();
                let (srv, client) = &mut *guard;
                script_call(lua, srv, client, args, raise, read_only, sha)
            })
        };
        let redis: Table = lua.globals().get("redis")?;
        redis.raw_set("call", call(true)?)?;
        redis.raw_set("pcall", call(false)?)?;
        func.call::<LuaValue>(())
    });
    match result {
        Ok(v) => lua_to_reply(&v, &mut ctx.client.out),
        Err(e) => {
            let msg = lua_message(&e);
            if msg.contains(TAIL_MARK) {
                ctx.out().error(&with_code(&msg));
            } else {
                let line = msg
                    .strip_prefix("user_script:")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                ctx.out().error(&with_code(&format!("{msg}{}", script_tail(sha, line))));
            }
        }
    }
    // Forget the per-call bindings so no dangling callback survives the scope.
    if let Ok(redis) = lua.globals().get::<Table>("redis") {
        let _ = redis.raw_set("call", LuaValue::Nil);
        let _ = redis.raw_set("pcall", LuaValue::Nil);
    }
}

/// The message of a Lua error, without mlua's decorations (traceback).
fn lua_message(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => return lua_message(cause),
        other => other.to_string(),
    };
    match text.find("\nstack traceback:") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `redis.call` / `redis.pcall`: runs one command for the script.
fn script_call(
    lua: &Lua,
    srv: &mut Server,
    client: &mut ClientState,
    args: MultiValue,
    raise: bool,
    read_only: bool,
    sha: &str,
) -> mlua::Result<LuaValue> {
    let fail = |lua: &Lua, msg: &str| -> mlua::Result<LuaValue> {
        if raise {
            Err(mlua::Error::RuntimeError(format!(
                "{}{}",
                with_code(msg),
                script_tail(sha, current_line(lua))
            )))
        } else {
            let t = lua.create_table()?;
            t.raw_set("err", with_code(msg))?;
            Ok(LuaValue::Table(t))
        }
    };
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            LuaValue::String(s) => argv.push(s.as_bytes().to_vec()),
            LuaValue::Integer(i) => argv.push(i.to_string().into_bytes()),
            LuaValue::Number(n) => argv.push(shoal_util::num::format_double(*n).into_bytes()),
            _ => return fail(lua, "Lua redis lib command arguments must be strings or integers"),
        }
    }
    if argv.is_empty() {
        return fail(lua, "Please specify at least one argument for this redis lib call");
    }
    let arg_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    match srv.commands.get(arg_refs[0]) {
        None => return fail(lua, "Unknown Redis command called from script"),
        Some(spec) => {
            let spec = if !spec.subcommands.is_empty() && arg_refs.len() > 1 {
                super::find_subcommand(spec, arg_refs[1]).unwrap_or(spec)
            } else {
                spec
            };
            if spec.has(super::flag::NOSCRIPT) {
                return fail(lua, "This Redis command is not allowed from script");
            }
            if read_only && spec.has(super::flag::WRITE) {
                return fail(lua, "Write commands are not allowed from read-only scripts.");
            }
        }
    }
    client.out.buf.clear();
    client.sent = 0;
    execute(srv, client, &arg_refs);
    let _ = client.out.take_errors();
    let frame = match Frame::parse(&client.out.buf) {
        Ok(Some((f, _))) => f,
        _ => Frame::Null,
    };
    client.out.buf.clear();
    if let (Frame::Error(e), true) = (&frame, raise) {
        let text = String::from_utf8_lossy(e).into_owned();
        return Err(mlua::Error::RuntimeError(format!(
            "{text}{}",
            script_tail(sha, current_line(lua))
        )));
    }
    frame_to_lua(lua, frame)
}

pub fn eval(ctx: &mut Ctx, args: &[&[u8]]) {
    eval_generic(ctx, args, false, false)
}
pub fn evalsha(ctx: &mut Ctx, args: &[&[u8]]) {
    eval_generic(ctx, args, true, false)
}
pub fn eval_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    eval_generic(ctx, args, false, true)
}
pub fn evalsha_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    eval_generic(ctx, args, true, true)
}

pub fn script_load(ctx: &mut Ctx, args: &[&[u8]]) {
    // Compile first so a broken script is refused, as Redis does.
    let lua = match ctx.srv.scripts.lua.take() {
        Some(l) => l,
        None => match new_lua() {
            Ok(l) => l,
            Err(e) => {
                ctx.out().error(&format!("ERR Error creating the Lua interpreter: {e}"));
                return;
            }
        },
    };
    let compiled = lua.load(args[2]).set_name("@user_script").into_function();
    ctx.srv.scripts.lua = Some(lua);
    if let Err(e) = compiled {
        ctx.out().error(&format!(
            "ERR Error compiling script (new function): {}",
            lua_message(&e)
        ));
        return;
    }
    let sha = sha1_hex(args[2]);
    ctx.srv.scripts.bodies.insert(sha.clone(), args[2].to_vec());
    ctx.out().bulk(sha.as_bytes());
}

pub fn script_exists(ctx: &mut Ctx, args: &[&[u8]]) {
    let found: Vec<bool> = args[2..]
        .iter()
        .map(|s| {
            ctx.srv
                .scripts
                .bodies
                .contains_key(&String::from_utf8_lossy(s).to_ascii_lowercase())
        })
        .collect();
    let out = ctx.out();
    out.array(found.len());
    for f in found {
        out.int(f as i64);
    }
}

pub fn script_flush(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 || (args.len() == 3 && !eq_ic(args[2], "async") && !eq_ic(args[2], "sync")) {
        ctx.out().error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    ctx.srv.scripts = Scripts::default();
    ctx.out().ok();
}

pub fn script_kill(ctx: &mut Ctx, _args: &[&[u8]]) {
    // Scripts run to completion on the engine thread; none can be running now.
    ctx.out().error("NOTBUSY No scripts in execution right now.");
}

pub fn script_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
}
