//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Lua 5.1
//! semantics as Redis runs them, and the runtime shared with Functions
//! (`function.rs`).
//!
//! One Lua state lives for the server's lifetime (taken out of `Server` while a
//! script runs, so `redis.call` can borrow the server). `redis.call` runs a
//! command through the normal dispatcher on a script client that shares the
//! caller's database, then converts the reply to Lua values (RESP2 or, after
//! `redis.setresp(3)`, RESP3); the script's result is converted back the way
//! Redis does (numbers truncate to integers, `false` is nil, `{ok=..}`,
//! `{err=..}`, `{double=..}`, `{map=..}`, `{set=..}`... tables).
//!
//! Errors follow Redis 7: a script runs under `xpcall` with a handler that
//! turns any error into a table `{err=, source=, line=}`; `redis.call` raises
//! such tables itself, so `pcall(redis.call, ...)` sees them as Redis scripts
//! do. Scripts cannot create globals nor read undefined ones. Libraries:
//! `cjson`, `cmsgpack`, `bit`, `struct` (`lua_libs.rs`). `math.random` is
//! Redis's deterministic rand48 generator, never reseeded by the server.
//!
//! Past `busy-reply-threshold` a Lua hook (every 100,000 instructions) serves
//! the other clients from inside the script (`net::serve_while_busy`): they
//! get -BUSY except for commands flagged `allow_busy` (SCRIPT KILL, FUNCTION
//! KILL/STATS, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI...), and a killed script
//! stops at the hook's next run.

use super::{eq_ic, err, help_reply, Ctx};
use crate::client::ClientState;
use crate::dispatch::execute;
use crate::server::Server;
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use shoal_resp::{Frame, Protocol, Reply};
use shoal_util::sha1::sha1_hex;
use std::cell::{Cell, RefCell};

/// Script state kept by the server: the EVAL interpreter, loaded bodies, and
/// the Functions engine.
#[derive(Default)]
pub struct Scripts {
    lua: Option<Lua>,
    bodies: std::collections::HashMap<String, Vec<u8>>,
    pub(crate) functions: super::function::Functions,
    /// The script or function running now (set for the whole run).
    pub(crate) running: Option<Running>,
    /// What the Lua hook needs to serve clients while a script is busy
    /// (set by the event loop).
    pub busy_net: Option<crate::net::BusyNet>,
}

/// A running script, for the Lua hook, SCRIPT KILL, FUNCTION KILL/STATS.
pub(crate) struct Running {
    /// SHA1 (EVAL) or function name.
    pub name: String,
    pub is_eval: bool,
    /// The command that runs it (FUNCTION STATS shows it).
    pub argv: Vec<Vec<u8>>,
    pub start: std::time::Instant,
    /// Past busy-reply-threshold: other clients get -BUSY.
    pub timed_out: bool,
    /// It ran a write command: SCRIPT KILL cannot stop it.
    pub wrote: bool,
    /// SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE asked it to stop.
    pub kill: bool,
}

pub const BUSY_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

impl Scripts {
    /// The -BUSY error for clients while a script is past the threshold.
    pub fn busy_error(&self) -> Option<&'static str> {
        match &self.running {
            Some(r) if r.timed_out => Some(if r.is_eval { BUSY_EVAL } else { BUSY_FUNCTION }),
            _ => None,
        }
    }
}

thread_local! {
    /// The run state of the script in progress, for the Lua hook (null when
    /// none runs). Set and cleared by `run`.
    static CURRENT_RUN: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
    /// When the library code of a FUNCTION LOAD started running (it gets 500 ms).
    pub(crate) static LOAD_START: Cell<Option<std::time::Instant>> = const { Cell::new(None) };
}

/// How long a library's code may run at FUNCTION LOAD.
const LOAD_TIMEOUT_MS: u128 = 500;

/// Instructions between two runs of the Lua hook (Redis uses the same count).
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// The Lua hook: past busy-reply-threshold it serves other clients (they get
/// -BUSY, SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE work), and it stops a
/// killed script.
fn script_hook(_lua: &Lua) -> mlua::Result<mlua::VmState> {
    let ptr = CURRENT_RUN.with(|c| c.get());
    if ptr.is_null() {
        if LOAD_START
            .with(|c| c.get())
            .is_some_and(|t| t.elapsed().as_millis() >= LOAD_TIMEOUT_MS)
        {
            return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
        }
        return Ok(mlua::VmState::Continue);
    }
    // SAFETY: `run` sets the pointer to its RefCell<RunState> for exactly the
    // duration of the Lua call during which this hook can fire.
    let state = unsafe { &*(ptr as *const RefCell<RunState<'static>>) };
    let Ok(mut st) = state.try_borrow_mut() else {
        return Ok(mlua::VmState::Continue);
    };
    let srv = &mut *st.srv;
    let threshold = srv.config.busy_reply_threshold;
    let Some(run) = srv.scripts.running.as_mut() else {
        return Ok(mlua::VmState::Continue);
    };
    if !run.kill {
        if threshold == 0 || (run.start.elapsed().as_millis() as u64) < threshold {
            return Ok(mlua::VmState::Continue);
        }
        if !run.timed_out {
            run.timed_out = true;
            crate::warning!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                run.start.elapsed().as_millis(),
                if run.is_eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                run.name
            );
        }
        crate::net::serve_while_busy(srv);
        if srv.shutdown_requested {
            if let Some(r) = srv.scripts.running.as_mut() {
                r.kill = true;
            }
        }
    }
    if srv.scripts.running.as_ref().is_some_and(|r| r.kill) {
        return Err(mlua::Error::RuntimeError(
            "Script killed by user with SCRIPT KILL...".into(),
        ));
    }
    Ok(mlua::VmState::Continue)
}

pub const REDIS_VERSION: &str = "7.0.15";
pub const REDIS_VERSION_NUM: i64 = 0x07000f;

/// Script flags (shebang `flags=` and function flags), in Redis's order.
pub mod sflag {
    pub const NO_WRITES: u32 = 1;
    pub const ALLOW_OOM: u32 = 2;
    pub const ALLOW_STALE: u32 = 4;
    pub const NO_CLUSTER: u32 = 8;
    pub const ALLOW_CROSS_SLOT: u32 = 16;
    pub const NAMES: &[(&str, u32)] = &[
        ("no-writes", NO_WRITES),
        ("allow-oom", ALLOW_OOM),
        ("allow-stale", ALLOW_STALE),
        ("no-cluster", NO_CLUSTER),
        ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
    ];
    pub fn parse(name: &[u8]) -> Option<u32> {
        NAMES.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, b)| *b)
    }
}

thread_local! {
    /// rand48 state for math.random: Redis never reseeds it, so the sequence
    /// continues across scripts from the generator's default seed.
    static RAND48: Cell<u64> = const { Cell::new(0x1234_ABCD_330E) };
}

fn rand48_next() -> i32 {
    RAND48.with(|s| {
        let x = (s.get().wrapping_mul(0x5DEECE66D).wrapping_add(0xB)) & ((1u64 << 48) - 1);
        s.set(x);
        (x >> 17) as i32
    })
}

fn rand48_seed(seed: i32) {
    RAND48.with(|s| s.set(0x330E | ((seed as u32 as u64) << 16)));
}

/// The light userdata marking a failed Rust call (see `lua_libs`).
fn sentinel() -> LuaValue {
    super::lua_libs::sentinel()
}

fn fail_with(lua: &Lua, v: LuaValue) -> mlua::Result<MultiValue> {
    let mut mv = MultiValue::new();
    mv.push_back(sentinel());
    mv.push_back(v);
    let _ = lua;
    Ok(mv)
}

/// An error table `{err = text}`, what Redis raises from its `redis.*` API.
fn err_table(lua: &Lua, text: &str) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    Ok(LuaValue::Table(t))
}

/// Which flavour of interpreter: EVAL's, or the Functions engine's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    Eval,
    Functions,
}

/// Creates an interpreter with Redis's globals, libraries and protections.
pub(crate) fn new_lua(flavour: Flavour) -> mlua::Result<Lua> {
    // SAFETY: the debug library is loaded so Redis's error handler can find
    // the script's position; scripts never see it (it is removed from _G).
    let lua = unsafe {
        Lua::unsafe_new_with(
            mlua::StdLib::ALL_SAFE | mlua::StdLib::DEBUG,
            mlua::LuaOptions::default(),
        )
    };
    super::lua_libs::install(&lua)?;
    let g = lua.globals();
    for name in [
        "io", "os", "package", "require", "module", "dofile", "loadfile", "print", "newproxy", "debug",
    ] {
        g.raw_set(name, LuaValue::Nil)?;
    }
    let redis = lua.create_table()?;
    g.raw_set("redis", redis.clone())?;
    for (k, v) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
    ] {
        redis.raw_set(k, v)?;
    }
    for (k, v) in [
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        redis.raw_set(k, v)?;
    }
    redis.raw_set("REDIS_VERSION", REDIS_VERSION)?;
    redis.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|_, s: mlua::String| Ok(sha1_hex(&s.as_bytes())))?,
    )?;
    redis.raw_set("log", log_function(&lua)?)?;
    // The per-run API (call, pcall, setresp, set_repl, acl_check_cmd) lives in
    // a private table filled while a script runs; `redis.*` wrappers raise
    // the errors the Rust side reports.
    lua.set_named_registry_value("shoal_err_handler", lua.create_function(error_handler)?)?;
    let math: Table = g.get("math")?;
    let rnd = lua.create_function(|lua, args: MultiValue| math_random(lua, args))?;
    let seed =
        lua.create_function(
            |lua, args: MultiValue| match args.front().map(|v| lua.coerce_number(v.clone())) {
                Some(Ok(Some(n))) => {
                    rand48_seed(n as i32);
                    Ok(MultiValue::new())
                }
                other => {
                    let got = match (other, args.front()) {
                        (_, None) => "no value".to_string(),
                        (_, Some(v)) => v.type_name().to_string(),
                    };
                    fail_with(
                        lua,
                        LuaValue::String(
                            lua.create_string(format!("bad argument #1 to 'randomseed' (number expected, got {got})"))?,
                        ),
                    )
                }
            },
        )?;
    let setup: Function = lua
        .load(
            r#"
            local S, redis, math, rnd, seed, flavour = ...
            local error, select, setmetatable, rawget, rawset, ipairs = error, select, setmetatable, rawget, rawset, ipairs
            function redis.error_reply(e) return {err = e} end
            function redis.status_reply(s) return {ok = s} end
            if flavour == 'eval' then
                function redis.breakpoint() return false end
                function redis.debug() end
                function redis.replicate_commands() return true end
            end
            math.random = rnd
            math.randomseed = seed
            -- pcall gives the text of Redis error tables, as Redis's own pcall does.
            local rawpcall, type = pcall, type
            local function pcall_result(ok, ...)
                if not ok then
                    local e = ...
                    if type(e) == 'table' and e.err ~= nil then return false, e.err end
                end
                return ok, ...
            end
            rawset(_G, 'pcall', function(...) return pcall_result(rawpcall(...)) end)
            local function readonly() error("Attempt to modify a readonly table", 2) end
            -- Library tables are read-only: scripts see proxies of them, and
            -- next/pairs walk a proxy's real table.
            local rawnext, select, type, G = next, select, type, _G
            local real = setmetatable({}, {__mode = 'k'})
            for _, name in ipairs({'redis', 'cjson', 'cmsgpack', 'bit', 'struct', 'string', 'math', 'table', 'coroutine'}) do
                local proxy = setmetatable({}, {__index = _G[name], __newindex = readonly, __metatable = false})
                real[proxy] = _G[name]
                rawset(_G, name, proxy)
            end
            local function pnext(t, k)
                return rawnext(real[t] or t, k)
            end
            rawset(_G, 'next', pnext)
            rawset(_G, 'pairs', function(...)
                local t = ...
                if type(t) ~= 'table' then
                    local got = select('#', ...) == 0 and 'no value' or type(t)
                    error("bad argument #1 to 'pairs' (table expected, got " .. got .. ")", 2)
                end
                if real[t] then return pnext, t, nil end
                return rawnext, t, nil
            end)
            rawset(_G, 'getfenv', nil)
            rawset(_G, 'setfenv', nil)
            setmetatable(_G, {
                __newindex = readonly,
                __index = function(_, k)
                    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
                end,
            })
            -- Scripts run in a proxy of _G, so they cannot replace globals.
            local env = setmetatable({}, {__index = G, __newindex = readonly, __metatable = false})
            real[env] = G
            rawset(G, '_G', env)
            -- rawset and setmetatable cannot bypass the protection either.
            local rawset_, setmetatable_ = rawset, setmetatable
            rawset_(G, 'rawset', function(t, k, v)
                if real[t] then error("Attempt to modify a readonly table", 0) end
                return rawset_(t, k, v)
            end)
            rawset_(G, 'setmetatable', function(t, mt)
                if real[t] then error("Attempt to modify a readonly table", 0) end
                return setmetatable_(t, mt)
            end)
            return env
            "#,
        )
        .set_name("=shoal_init")
        .into_function()?;
    let fl = if flavour == Flavour::Eval { "eval" } else { "functions" };
    let rnd = super::lua_libs::raising(&lua, rnd)?;
    let seed = super::lua_libs::raising(&lua, seed)?;
    // The per-run API reaches the running script's state through CURRENT_RUN
    // and raises its errors from C, like Redis's own functions.
    let raising = |f: Function| super::lua_libs::raising(&lua, f);
    redis.raw_set(
        "call",
        raising(
            lua.create_function(|lua, args: MultiValue| with_run(lua, |lua, st| script_call(lua, st, args, true)))?,
        )?,
    )?;
    redis.raw_set(
        "pcall",
        lua.create_function(|lua, args: MultiValue| with_run(lua, |lua, st| script_call(lua, st, args, false)))?,
    )?;
    redis.raw_set(
        "setresp",
        raising(lua.create_function(|lua, args: MultiValue| with_run(lua, |lua, st| setresp(lua, st, args)))?)?,
    )?;
    redis.raw_set(
        "set_repl",
        raising(lua.create_function(|lua, args: MultiValue| with_run(lua, |lua, st| set_repl(lua, st, args)))?)?,
    )?;
    redis.raw_set(
        "acl_check_cmd",
        raising(lua.create_function(|lua, args: MultiValue| with_run(lua, |lua, st| acl_check_cmd(lua, st, args)))?)?,
    )?;
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
        |lua, _| script_hook(lua),
    );
    let env: Table = setup.call((sentinel(), redis.clone(), math, rnd, seed, fl))?;
    lua.set_named_registry_value("shoal_script_env", env)?;
    if flavour == Flavour::Eval {
        let handler: Function = lua.named_registry_value("shoal_err_handler")?;
        g.raw_set("__redis__err__handler", handler)?;
    }
    let runner: Function = lua
        .load(
            r#"
            local xpcall = xpcall
            local handler = ...
            return function(f, a, b)
                return xpcall(function() return f(a, b) end, handler)
            end
            "#,
        )
        .set_name("=shoal_runner")
        .call(lua.named_registry_value::<Function>("shoal_err_handler")?)?;
    lua.set_named_registry_value("shoal_runner", runner)?;
    Ok(lua)
}

fn log_function(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|_, args: MultiValue| {
        let level = match args.front() {
            Some(LuaValue::Integer(i)) => *i,
            Some(LuaValue::Number(n)) => *n as i64,
            _ => 3,
        };
        let level = match level {
            0 => crate::log::Level::Debug,
            1 => crate::log::Level::Verbose,
            2 => crate::log::Level::Notice,
            _ => crate::log::Level::Warning,
        };
        let mut msg = String::new();
        for (i, a) in args.iter().skip(1).enumerate() {
            if i > 0 {
                msg.push(' ');
            }
            if let LuaValue::String(s) = a {
                msg.push_str(&String::from_utf8_lossy(&s.as_bytes()));
            } else if let LuaValue::Number(n) = a {
                msg.push_str(&super::lua_libs::fmt_g(*n, 14));
            } else if let LuaValue::Integer(n) = a {
                msg.push_str(&n.to_string());
            }
        }
        crate::log::log(level, &msg);
        Ok(())
    })
}

/// math.random with Redis's generator.
fn math_random(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    const MAX: f64 = 2147483647.0;
    let r = (rand48_next() as i64 % 2147483647) as f64 / MAX;
    let int_arg = |i: usize| -> Option<f64> {
        args.get(i)
            .and_then(|v| lua.coerce_number(v.clone()).ok().flatten())
            .map(|n| (n as i32) as f64)
    };
    let bad = |msg: String| -> mlua::Result<MultiValue> { fail_with(lua, LuaValue::String(lua.create_string(msg)?)) };
    let v = match args.len() {
        0 => r,
        1 => {
            let Some(u) = int_arg(0) else {
                return bad(format!(
                    "bad argument #1 to 'random' (number expected, got {})",
                    args[0].type_name()
                ));
            };
            if u < 1.0 {
                return bad("bad argument #1 to 'random' (interval is empty)".into());
            }
            (r * u).floor() + 1.0
        }
        2 => {
            let (Some(l), Some(u)) = (int_arg(0), int_arg(1)) else {
                return bad("bad argument #1 to 'random' (number expected)".into());
            };
            if l > u {
                return bad("bad argument #2 to 'random' (interval is empty)".into());
            }
            (r * (u - l + 1.0)).floor() + l
        }
        _ => return bad("wrong number of arguments".into()),
    };
    let mut mv = MultiValue::new();
    mv.push_back(LuaValue::Number(v));
    Ok(mv)
}

/// Redis's `__redis__err__handler`: every error becomes a table with `err`,
/// plus the source and line of the script code that raised it.
fn error_handler(lua: &Lua, e: LuaValue) -> mlua::Result<LuaValue> {
    let t = match &e {
        LuaValue::Table(t) => t.clone(),
        LuaValue::String(s) => {
            let t = lua.create_table()?;
            let mut text = b"ERR ".to_vec();
            text.extend_from_slice(&s.as_bytes());
            t.raw_set("err", lua.create_string(&text)?)?;
            t
        }
        other => {
            let t = lua.create_table()?;
            let msg = match other {
                LuaValue::Integer(i) => i.to_string(),
                LuaValue::Number(n) => super::lua_libs::fmt_g(*n, 14),
                LuaValue::Error(err) => lua_message(err),
                v => v.to_string().unwrap_or_default(),
            };
            t.raw_set("err", format!("ERR {msg}"))?;
            t
        }
    };
    // The first Lua frame that is not ours: the script's position.
    let mut level = 1;
    while let Some(d) = lua.inspect_stack(level) {
        let src = d.source();
        let what = src.what;
        let source = src.source.as_deref().unwrap_or("").to_string();
        if what != "C" && what != "tail" && !source.starts_with("=shoal") && !source.starts_with("=lua_libs") {
            t.raw_set("source", source)?;
            t.raw_set("line", d.curr_line())?;
            break;
        }
        level += 1;
    }
    Ok(LuaValue::Table(t))
}

/// Runs `f` with the state of the script in progress (the `redis.*` API is
/// only meaningful while one runs).
fn with_run(lua: &Lua, f: impl FnOnce(&Lua, &mut RunState) -> mlua::Result<MultiValue>) -> mlua::Result<MultiValue> {
    let ptr = CURRENT_RUN.with(|c| c.get());
    if ptr.is_null() {
        return fail_with(lua, err_table(lua, "ERR no script is running")?);
    }
    // SAFETY: `run` points CURRENT_RUN at its RefCell<RunState> only for the
    // duration of the Lua call during which these callbacks can run, and
    // clears it before the state goes away.
    let state = unsafe { &*(ptr as *const RefCell<RunState<'static>>) };
    let Ok(mut st) = state.try_borrow_mut() else {
        return fail_with(lua, err_table(lua, "ERR the script API is busy")?);
    };
    f(lua, &mut st)
}

fn setresp(lua: &Lua, s: &mut RunState, args: MultiValue) -> mlua::Result<MultiValue> {
    if args.len() != 1 {
        return fail_with(lua, err_table(lua, "ERR redis.setresp() requires one argument.")?);
    }
    match lua.coerce_number(args[0].clone()).ok().flatten().map(|n| n as i64) {
        Some(2) => s.client.out.proto = Protocol::Resp2,
        Some(3) => s.client.out.proto = Protocol::Resp3,
        _ => return fail_with(lua, err_table(lua, "ERR RESP version must be 2 or 3.")?),
    }
    Ok(MultiValue::new())
}

fn set_repl(lua: &Lua, s: &mut RunState, args: MultiValue) -> mlua::Result<MultiValue> {
    if args.len() != 1 {
        return fail_with(lua, err_table(lua, "ERR redis.set_repl() requires two arguments.")?);
    }
    match lua.coerce_number(args[0].clone()).ok().flatten().map(|n| n as i64) {
        Some(f @ 0..=3) => s.repl = f as u8,
        _ => {
            return fail_with(
                lua,
                err_table(
                    lua,
                    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                )?,
            )
        }
    }
    Ok(MultiValue::new())
}

/// Per-run state shared by the `redis.*` callbacks.
struct RunState<'a> {
    srv: &'a mut Server,
    client: &'a mut ClientState,
    read_only: bool,
    /// `redis.set_repl` flags (REPL_ALL by default).
    repl: u8,
}

/// Converts a reply to the Lua value Redis gives scripts (RESP2 or RESP3).
fn frame_to_lua(lua: &Lua, f: Frame, resp3: bool) -> mlua::Result<LuaValue> {
    let wrap = |key: &str, v: LuaValue| -> mlua::Result<LuaValue> {
        let t = lua.create_table()?;
        t.raw_set(key, v)?;
        Ok(LuaValue::Table(t))
    };
    Ok(match f {
        Frame::Integer(i) => LuaValue::Number(i as f64),
        Frame::Bulk(b) => LuaValue::String(lua.create_string(&b)?),
        Frame::Verbatim(fmt, b) if resp3 => {
            let t = lua.create_table()?;
            t.raw_set("format", lua.create_string(&fmt)?)?;
            t.raw_set("string", lua.create_string(&b)?)?;
            wrap("verbatim_string", LuaValue::Table(t))?
        }
        Frame::Verbatim(_, b) => LuaValue::String(lua.create_string(&b)?),
        Frame::Null if resp3 => LuaValue::Nil,
        Frame::Null => LuaValue::Boolean(false),
        Frame::Simple(s) => wrap("ok", LuaValue::String(lua.create_string(&s)?))?,
        Frame::Error(e) => wrap("err", LuaValue::String(lua.create_string(&e)?))?,
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table()?;
            for (i, it) in items.into_iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, it, resp3)?)?;
            }
            LuaValue::Table(t)
        }
        Frame::Set(items) if resp3 => {
            let t = lua.create_table()?;
            for it in items {
                t.raw_set(frame_to_lua(lua, it, resp3)?, true)?;
            }
            wrap("set", LuaValue::Table(t))?
        }
        Frame::Set(items) => {
            let t = lua.create_table()?;
            for (i, it) in items.into_iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, it, resp3)?)?;
            }
            LuaValue::Table(t)
        }
        Frame::Map(pairs) if resp3 => {
            let t = lua.create_table()?;
            for (k, v) in pairs {
                t.raw_set(frame_to_lua(lua, k, resp3)?, frame_to_lua(lua, v, resp3)?)?;
            }
            wrap("map", LuaValue::Table(t))?
        }
        Frame::Map(pairs) => {
            let t = lua.create_table()?;
            let mut i = 1;
            for (k, v) in pairs {
                t.raw_set(i, frame_to_lua(lua, k, resp3)?)?;
                t.raw_set(i + 1, frame_to_lua(lua, v, resp3)?)?;
                i += 2;
            }
            LuaValue::Table(t)
        }
        Frame::Double(d) if resp3 => {
            let n: f64 = std::str::from_utf8(&d).ok().and_then(parse_double_text).unwrap_or(0.0);
            wrap("double", LuaValue::Number(n))?
        }
        Frame::BigNumber(d) if resp3 => wrap("big_number", LuaValue::String(lua.create_string(&d)?))?,
        Frame::Double(d) | Frame::BigNumber(d) => LuaValue::String(lua.create_string(&d)?),
        Frame::Boolean(b) if resp3 => LuaValue::Boolean(b),
        Frame::Boolean(b) => LuaValue::Number(b as i64 as f64),
    })
}

fn parse_double_text(s: &str) -> Option<f64> {
    match s {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Writes a script's Lua result as a reply, Redis's way. `resp3` is the
/// protocol the script chose with `redis.setresp` (booleans depend on it).
fn lua_to_reply(v: &LuaValue, out: &mut Reply, resp3: bool, depth: usize) {
    match v {
        LuaValue::Nil => out.null(),
        LuaValue::Boolean(b) if resp3 => out.boolean(*b),
        LuaValue::Boolean(true) => out.int(1),
        LuaValue::Boolean(false) => out.null(),
        LuaValue::Integer(i) => out.int(*i),
        LuaValue::Number(n) => out.int(*n as i64),
        LuaValue::String(s) => out.bulk(&s.as_bytes()),
        LuaValue::Table(t) => {
            // Redis runs out of Lua stack (LUAI_MAXCSTACK) at this nesting.
            if depth > 7994 {
                out.error("ERR reached lua stack limit");
                return;
            }
            if let Ok(LuaValue::String(e)) = t.raw_get::<LuaValue>("err") {
                // Redis sends the text as it is, whatever its first word.
                out.error(&String::from_utf8_lossy(&e.as_bytes()));
                return;
            }
            if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>("ok") {
                out.simple(&String::from_utf8_lossy(&s.as_bytes()));
                return;
            }
            match t.raw_get::<LuaValue>("double") {
                Ok(LuaValue::Number(d)) => {
                    out.double_text(&double_text(d));
                    return;
                }
                Ok(LuaValue::Integer(d)) => {
                    out.double_text(&double_text(d as f64));
                    return;
                }
                _ => {}
            }
            if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>("big_number") {
                let text = s.as_bytes();
                if out.is_resp3() {
                    out.raw(b"(");
                    out.raw(&text);
                    out.raw(b"\r\n");
                } else {
                    out.bulk(&text);
                }
                return;
            }
            if let Ok(LuaValue::Table(m)) = t.raw_get::<LuaValue>("map") {
                let pairs: Vec<(LuaValue, LuaValue)> = m.pairs::<LuaValue, LuaValue>().flatten().collect();
                out.map(pairs.len());
                for (k, v) in &pairs {
                    lua_to_reply(k, out, resp3, depth + 1);
                    lua_to_reply(v, out, resp3, depth + 1);
                }
                return;
            }
            if let Ok(LuaValue::Table(m)) = t.raw_get::<LuaValue>("set") {
                let keys: Vec<LuaValue> = m.pairs::<LuaValue, LuaValue>().flatten().map(|(k, _)| k).collect();
                out.set(keys.len());
                for k in &keys {
                    lua_to_reply(k, out, resp3, depth + 1);
                }
                return;
            }
            if let Ok(LuaValue::Table(m)) = t.raw_get::<LuaValue>("verbatim_string") {
                if let (Ok(LuaValue::String(f)), Ok(LuaValue::String(s))) =
                    (m.raw_get::<LuaValue>("format"), m.raw_get::<LuaValue>("string"))
                {
                    out.verbatim(&String::from_utf8_lossy(&f.as_bytes()), &s.as_bytes());
                    return;
                }
            }
            // An array up to the first nil. Items are fetched one at a time:
            // every value held from Rust takes a slot of mlua's reference
            // stack, which deep nesting would otherwise exhaust.
            let mut len = 0;
            while t.raw_get::<LuaValue>(len + 1).is_ok_and(|v| !v.is_nil()) {
                len += 1;
            }
            out.array(len);
            for i in 1..=len {
                let it = t.raw_get::<LuaValue>(i).unwrap_or(LuaValue::Nil);
                lua_to_reply(&it, out, resp3, depth + 1);
            }
        }
        _ => out.null(),
    }
}

/// Redis's `%.17g` for doubles replied from scripts.
fn double_text(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    super::lua_libs::fmt_g(d, 17)
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

/// KEYS and ARGV of a script call.
pub(crate) type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// Parses `numkeys key... arg...`, replying the error if invalid.
pub(crate) fn keys_and_args<'a>(ctx: &mut Ctx, args: &[&'a [u8]], bad_numkeys: &str) -> Option<KeysAndArgs<'a>> {
    let Some(n) = super::parse_int(args[2]) else {
        ctx.out().error(bad_numkeys);
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

/// Parses an EVAL body's `#!lua flags=...` line. Ok(None): no shebang.
fn shebang_flags(body: &[u8]) -> Result<Option<u32>, String> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let Some(nl) = body.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let line = &body[..nl];
    let parts: Vec<&[u8]> = line
        .split(|c| c.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.first() != Some(&&b"#!lua"[..]) {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(parts.first().copied().unwrap_or(b""))
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        if let Some(list) = p.strip_prefix(b"flags=") {
            for f in list.split(|&c| c == b',').filter(|f| !f.is_empty()) {
                match sflag::parse(f) {
                    Some(b) => flags |= b,
                    None => {
                        return Err(format!(
                            "ERR Unexpected flag in script shebang: {}",
                            String::from_utf8_lossy(f)
                        ))
                    }
                }
            }
        } else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        }
    }
    Ok(Some(flags))
}

/// The code Lua compiles: a shebang line becomes a comment, so line numbers
/// stay those of the text the user sent.
pub(crate) fn code_for_lua(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if body.starts_with(b"#!") {
        let mut v = body.to_vec();
        v[0] = b'-';
        v[1] = b'-';
        std::borrow::Cow::Owned(v)
    } else {
        std::borrow::Cow::Borrowed(body)
    }
}

/// Compiles an EVAL script, running in the read-only proxy of the globals.
fn compile_script(lua: &Lua, body: &[u8]) -> mlua::Result<Function> {
    let f = lua
        .load(&*code_for_lua(body))
        .set_name("@user_script")
        .into_function()?;
    f.set_environment(lua.named_registry_value::<Table>("shoal_script_env")?)?;
    Ok(f)
}

/// Checks Redis makes before running a script that declares its flags (a
/// shebang, or a function): writes are refused up front on a read-only
/// replica and, without `allow-oom`, when memory is over `maxmemory`.
pub(crate) fn refused_by_flags(ctx: &mut Ctx, flags: u32) -> Option<&'static str> {
    if flags & sflag::NO_WRITES != 0 {
        return None;
    }
    let srv = &mut *ctx.srv;
    if srv.repl.master.is_some() && srv.config.replica_read_only && !ctx.client.master {
        return Some("READONLY You can't write against a read only replica.");
    }
    if flags & sflag::ALLOW_OOM == 0 && srv.config.maxmemory > 0 && !crate::evict::perform_evictions(srv) {
        return Some("OOM command not allowed when used memory > 'maxmemory'.");
    }
    None
}

fn take_lua(slot: &mut Option<Lua>, flavour: Flavour) -> Result<Lua, String> {
    match slot.take() {
        Some(l) => Ok(l),
        None => new_lua(flavour).map_err(|e| format!("ERR Error creating the Lua interpreter: {e}")),
    }
}

fn eval_generic(ctx: &mut Ctx, args: &[&[u8]], by_sha: bool, ro_command: bool) {
    let Some((keys, argv)) = keys_and_args(ctx, args, err::NOT_INT) else {
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
        (sha1_hex(args[1]), args[1].to_vec())
    };
    let flags = match shebang_flags(&body) {
        Ok(f) => f,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    if ro_command && flags.is_some_and(|f| f & sflag::NO_WRITES == 0) {
        ctx.out()
            .error("ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    if let Some(e) = flags.and_then(|f| refused_by_flags(ctx, f)) {
        ctx.out().error(e);
        return;
    }
    let lua = match take_lua(&mut ctx.srv.scripts.lua, Flavour::Eval) {
        Ok(l) => l,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    let func_name = format!("f_{sha}");
    let func = match lua.named_registry_value::<Function>(&func_name) {
        Ok(f) => Some(f),
        Err(_) => match compile_script(&lua, &body) {
            Ok(f) => {
                let _ = lua.set_named_registry_value(&func_name, f.clone());
                ctx.srv.scripts.bodies.entry(sha.clone()).or_insert(body);
                Some(f)
            }
            Err(e) => {
                ctx.out().error(&format!(
                    "ERR Error compiling script (new function): {}",
                    lua_message(&e)
                ));
                None
            }
        },
    };
    if let Some(func) = func {
        let set_table = |name: &str, items: &[&[u8]]| -> mlua::Result<()> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, it) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(it)?)?;
            }
            lua.globals().raw_set(name, t)
        };
        if set_table("KEYS", &keys).and_then(|_| set_table("ARGV", &argv)).is_err() {
            ctx.out().error("ERR Error preparing the script arguments");
        } else {
            let read_only = ro_command || flags.is_some_and(|f| f & sflag::NO_WRITES != 0);
            run(
                ctx,
                &lua,
                &func,
                LuaValue::Nil,
                LuaValue::Nil,
                &sha,
                read_only,
                true,
                args,
            );
        }
    }
    ctx.srv.scripts.lua = Some(lua);
}

/// Runs a compiled script or function (`f(a, b)`) under Redis's error
/// handler with the per-run `redis.*` API bound, and writes its reply.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    ctx: &mut Ctx,
    lua: &Lua,
    func: &Function,
    a: LuaValue,
    b: LuaValue,
    name: &str,
    read_only: bool,
    is_eval: bool,
    argv: &[&[u8]],
) {
    // The script's own client: the caller's database, never blocking.
    let mut script_client = ClientState::new(0, ctx.client.addr, ctx.client.laddr, ctx.now());
    script_client.db = ctx.client.db;
    script_client.authenticated = true;
    // Commands of the script are checked against the caller's ACL user.
    script_client.user = ctx.client.user.clone();
    script_client.in_exec = true;
    let state = RefCell::new(RunState {
        srv: &mut *ctx.srv,
        client: &mut script_client,
        read_only,
        repl: 3,
    });
    let runner: Function = match lua.named_registry_value("shoal_runner") {
        Ok(f) => f,
        Err(e) => {
            ctx.client.out.error(&format!("ERR {e}"));
            return;
        }
    };
    state.borrow_mut().srv.scripts.running = Some(Running {
        name: name.to_string(),
        is_eval,
        // Only FUNCTION STATS shows it (it answers -BUSY during an EVAL).
        argv: if is_eval {
            Vec::new()
        } else {
            argv.iter().map(|a| a.to_vec()).collect()
        },
        start: std::time::Instant::now(),
        timed_out: false,
        wrote: false,
        kill: false,
    });
    CURRENT_RUN.with(|c| c.set(&state as *const RefCell<RunState> as *const ()));
    let result = runner.call::<MultiValue>((func.clone(), a, b));
    // Every handle held from Rust takes a slot of mlua's reference stack,
    // which a deeply nested reply needs (see lua_to_reply).
    drop(runner);
    CURRENT_RUN.with(|c| c.set(std::ptr::null()));
    let killed = state.borrow_mut().srv.scripts.running.take().is_some_and(|r| r.kill);
    if killed {
        crate::warning!("Lua script killed by user with SCRIPT KILL.");
    }
    if killed && ctx.srv.shutdown_requested {
        // SHUTDOWN NOSAVE stopped it: the caller gets no reply, as with Redis.
        ctx.client.close_asap = true;
        return;
    }
    let resp3 = script_client.out.proto == Protocol::Resp3;
    let out = &mut ctx.client.out;
    match result {
        Ok(mut mv) => {
            let ok = matches!(mv.pop_front(), Some(LuaValue::Boolean(true)));
            let v = mv.pop_front().unwrap_or(LuaValue::Nil);
            drop(mv);
            if ok {
                // mlua panics when its reference stack runs out (a reply
                // nested deeper than Lua's stack): answer what Redis does.
                let mark = out.buf.len();
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    lua_to_reply(&v, out, resp3, 0);
                }));
                if done.is_err() {
                    out.buf.truncate(mark);
                    out.error("ERR reached lua stack limit");
                }
            } else {
                reply_error(out, &v, name);
            }
        }
        Err(e) => out.error(&with_code(&lua_message(&e))),
    }
}

/// The reply for a failed script: the error table's text, with Redis's
/// "script: <name>, on <source>:<line>." tail when the position is known.
fn reply_error(out: &mut Reply, v: &LuaValue, name: &str) {
    let LuaValue::Table(t) = v else {
        out.error("ERR Error running script");
        return;
    };
    let text = match t.raw_get::<LuaValue>("err") {
        Ok(LuaValue::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "ERR unknown error".into(),
    };
    let source = t.raw_get::<Option<String>>("source").ok().flatten();
    let line = t.raw_get::<Option<i64>>("line").ok().flatten();
    match (source, line) {
        (Some(s), Some(l)) => out.error(&format!("{text} script: {name}, on {s}:{l}.")),
        _ => out.error(&text),
    }
}

/// The message of a Lua error, without mlua's decorations (traceback).
pub(crate) fn lua_message(e: &mlua::Error) -> String {
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

/// Converts `redis.call` arguments to strings.
fn call_argv(lua: &Lua, args: &MultiValue) -> Result<Vec<Vec<u8>>, &'static str> {
    let _ = lua;
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            LuaValue::String(s) => argv.push(s.as_bytes().to_vec()),
            LuaValue::Integer(i) => argv.push(i.to_string().into_bytes()),
            LuaValue::Number(n) => argv.push(super::lua_libs::fmt_g(*n, 17).into_bytes()),
            v => match super::lua_libs::exact_number(v) {
                Some(n) if matches!(v, LuaValue::Table(_)) => argv.push(super::lua_libs::fmt_g(n, 17).into_bytes()),
                _ => return Err("Lua redis lib command arguments must be strings or integers"),
            },
        }
    }
    if argv.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    Ok(argv)
}

/// `redis.call` / `redis.pcall`: runs one command for the script.
fn script_call(lua: &Lua, st: &mut RunState, args: MultiValue, raise: bool) -> mlua::Result<MultiValue> {
    let fail = |lua: &Lua, msg: &str| -> mlua::Result<MultiValue> {
        let t = err_table(lua, &with_code(msg))?;
        if raise {
            fail_with(lua, t)
        } else {
            let mut mv = MultiValue::new();
            mv.push_back(t);
            Ok(mv)
        }
    };
    let argv = match call_argv(lua, &args) {
        Ok(a) => a,
        Err(msg) => return fail(lua, msg),
    };
    let arg_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    match st.srv.commands.get(arg_refs[0]) {
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
            if st.read_only && spec.has(super::flag::WRITE) {
                return fail(lua, "Write commands are not allowed from read-only scripts.");
            }
            if spec.has(super::flag::WRITE) {
                if let Some(r) = st.srv.scripts.running.as_mut() {
                    r.wrote = true;
                }
            }
        }
    }
    let client = &mut *st.client;
    client.out.buf.clear();
    client.sent = 0;
    let mark = st.srv.propagator.mark();
    execute(st.srv, client, &arg_refs);
    if st.repl != 3 {
        st.srv
            .propagator
            .restrict_since(mark, st.repl & 1 != 0, st.repl & 2 != 0);
    }
    let _ = client.out.take_errors();
    let resp3 = client.out.is_resp3();
    let frame = match Frame::parse(&client.out.buf) {
        Ok(Some((f, _))) => f,
        _ => Frame::Null,
    };
    client.out.buf.clear();
    if let (Frame::Error(e), true) = (&frame, raise) {
        let t = err_table(lua, &String::from_utf8_lossy(e))?;
        return fail_with(lua, t);
    }
    let mut mv = MultiValue::new();
    mv.push_back(frame_to_lua(lua, frame, resp3)?);
    Ok(mv)
}

/// `redis.acl_check_cmd(cmd, args...)`: whether the caller's user may run it.
fn acl_check_cmd(lua: &Lua, st: &mut RunState, args: MultiValue) -> mlua::Result<MultiValue> {
    let argv = match call_argv(lua, &args) {
        Ok(a) => a,
        Err(msg) => return fail_with(lua, err_table(lua, &with_code(msg))?),
    };
    let arg_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let Some(spec) = st.srv.commands.get(arg_refs[0]) else {
        return fail_with(
            lua,
            err_table(lua, "ERR Invalid command passed to redis.acl_check_cmd()")?,
        );
    };
    let spec = if !spec.subcommands.is_empty() && arg_refs.len() > 1 {
        super::find_subcommand(spec, arg_refs[1]).unwrap_or(spec)
    } else {
        spec
    };
    let allowed = if st.srv.acl.unrestricted(&st.client.user) {
        true
    } else {
        match st.srv.acl.user(st.client.user.as_bytes()) {
            Some(u) => u.check(spec, &arg_refs).is_ok(),
            None => true,
        }
    };
    let mut mv = MultiValue::new();
    mv.push_back(LuaValue::Boolean(allowed));
    Ok(mv)
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
    if let Err(e) = shebang_flags(args[2]) {
        ctx.out().error(&e);
        return;
    }
    // Compile first so a broken script is refused, as Redis does.
    let lua = match take_lua(&mut ctx.srv.scripts.lua, Flavour::Eval) {
        Ok(l) => l,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    let sha = sha1_hex(args[2]);
    let func_name = format!("f_{sha}");
    let compiled = if lua.named_registry_value::<Function>(&func_name).is_ok() {
        Ok(())
    } else {
        compile_script(&lua, args[2]).map(|f| {
            let _ = lua.set_named_registry_value(&func_name, f);
        })
    };
    ctx.srv.scripts.lua = Some(lua);
    if let Err(e) = compiled {
        ctx.out().error(&format!(
            "ERR Error compiling script (new function): {}",
            lua_message(&e)
        ));
        return;
    }
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
    ctx.srv.scripts.lua = None;
    ctx.srv.scripts.bodies.clear();
    ctx.out().ok();
}

pub fn script_kill(ctx: &mut Ctx, _args: &[&[u8]]) {
    kill(ctx, true)
}

/// SCRIPT KILL (`is_eval`) and FUNCTION KILL: stops a busy script that has
/// not written.
pub(crate) fn kill(ctx: &mut Ctx, is_eval: bool) {
    let reply = match ctx.srv.scripts.running.as_mut() {
        None => Err("NOTBUSY No scripts in execution right now."),
        Some(r) if r.wrote => Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."),
        Some(r) if r.is_eval != is_eval => Err(if r.is_eval { BUSY_EVAL } else { BUSY_FUNCTION }),
        Some(r) => {
            r.kill = true;
            Ok(())
        }
    };
    match reply {
        Ok(()) => ctx.out().ok(),
        Err(e) => ctx.out().error(e),
    }
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
