//! Redis 7 Functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/
//! KILL/HELP, FCALL and FCALL_RO.
//!
//! Libraries live in their own Lua state (separate from EVAL's, as in Redis).
//! A library's code runs once at load time in an environment holding only a
//! reduced `redis` table (`register_function`, `log`, the constants); the
//! registered callbacks then run with the state's full globals. Libraries are
//! kept sorted by name (Redis lists them in hash-table order, which is not
//! defined). DUMP/RESTORE payloads and RDB files hold each library as opcode
//! 245 (`RDB_OPCODE_FUNCTION2`) followed by its code as an RDB string.

use super::scripting::{self, code_for_lua, lua_message, new_lua, sflag, Flavour};
use super::{eq_ic, help_reply, Ctx};
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use shoal_persist::object::{write_string, Reader};
use shoal_persist::rdb::{OP_FUNCTION2, OP_FUNCTION_PRE_GA};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

pub struct FunctionInfo {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: u32,
    /// The callback until the library is added; then it lives in the
    /// `shoal_functions` registry table (a handle held from Rust would take
    /// a slot of mlua's limited reference stack for as long as it lives).
    func: Option<Function>,
}

const FUNCTIONS_TABLE: &str = "shoal_functions";

pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

#[derive(Default)]
pub struct Functions {
    lua: Option<Lua>,
    libs: BTreeMap<String, Library>,
    /// Function name -> library name.
    by_name: HashMap<String, String>,
}

const NAME_ERR: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// A function registered while a library's code runs.
struct Pending {
    name: String,
    desc: Option<Vec<u8>>,
    flags: u32,
    func: Function,
}

impl Functions {
    /// All libraries' code, for RDB saves and DUMP.
    pub fn codes(&self) -> Vec<Vec<u8>> {
        self.libs.values().map(|l| l.code.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    pub fn clear(&mut self) {
        self.libs.clear();
        self.by_name.clear();
        self.lua = None;
    }

    fn lua(&mut self) -> Result<&Lua, String> {
        if self.lua.is_none() {
            self.lua =
                Some(new_lua(Flavour::Functions).map_err(|e| format!("Error creating the Lua interpreter: {e}"))?);
        }
        Ok(self.lua.as_ref().unwrap())
    }

    /// Compiles and runs a library's code, returning the library (not yet
    /// added). Errors are Redis's texts without the leading `ERR `.
    fn compile(&mut self, code: &[u8]) -> Result<Library, String> {
        let name = parse_metadata(code)?;
        let lua = self.lua()?;
        let chunk = lua
            .load(&*code_for_lua(code))
            .set_name("@user_function")
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", lua_message(&e)))?;
        let pending: Rc<RefCell<Vec<Pending>>> = Rc::new(RefCell::new(Vec::new()));
        let env = load_env(lua, pending.clone()).map_err(|e| e.to_string())?;
        chunk.set_environment(env.clone()).map_err(|e| e.to_string())?;
        let runner: Function = lua.named_registry_value("shoal_runner").map_err(|e| e.to_string())?;
        scripting::LOAD_START.with(|c| c.set(Some(std::time::Instant::now())));
        let res = runner.call::<MultiValue>((chunk, LuaValue::Nil, LuaValue::Nil));
        scripting::LOAD_START.with(|c| c.set(None));
        let res = res.map_err(|e| format!("Error registering functions: {}", lua_message(&e)))?;
        if !matches!(res.front(), Some(LuaValue::Boolean(true))) {
            let text = match res.get(1) {
                Some(LuaValue::Table(t)) => t.raw_get::<Option<String>>("err").ok().flatten().unwrap_or_default(),
                _ => String::new(),
            };
            return Err(format!("Error registering functions: {text}"));
        }
        // From now on the callbacks see the state's real globals.
        let finish: Function = lua
            .load(
                "local env = ... local function readonly() error('Attempt to modify a readonly table', 2) end \
                 setmetatable(env, {__index = _G, __newindex = readonly, __metatable = false})",
            )
            .set_name("=shoal_fn_env")
            .into_function()
            .map_err(|e| e.to_string())?;
        finish.call::<()>(env).map_err(|e| e.to_string())?;
        let functions: Vec<FunctionInfo> = pending
            .borrow_mut()
            .drain(..)
            .map(|p| FunctionInfo {
                name: p.name,
                desc: p.desc,
                flags: p.flags,
                func: Some(p.func),
            })
            .collect();
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library {
            name,
            code: code.to_vec(),
            functions,
        })
    }

    /// Adds a compiled library, replacing one of the same name when `replace`.
    fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        if self.libs.contains_key(&lib.name) && !replace {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        for f in &lib.functions {
            if let Some(owner) = self.by_name.get(&f.name) {
                if *owner != lib.name {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        self.remove(&lib.name.clone());
        let mut lib = lib;
        let table = self.table()?;
        for f in &mut lib.functions {
            self.by_name.insert(f.name.clone(), lib.name.clone());
            table
                .raw_set(f.name.as_str(), f.func.take())
                .map_err(|e| e.to_string())?;
        }
        self.libs.insert(lib.name.clone(), lib);
        Ok(())
    }

    /// The registry table of every registered callback, by function name.
    fn table(&mut self) -> Result<Table, String> {
        let lua = self.lua()?;
        if let Ok(t) = lua.named_registry_value::<Table>(FUNCTIONS_TABLE) {
            return Ok(t);
        }
        let t = lua.create_table().map_err(|e| e.to_string())?;
        lua.set_named_registry_value(FUNCTIONS_TABLE, t.clone())
            .map_err(|e| e.to_string())?;
        Ok(t)
    }

    fn remove(&mut self, name: &str) -> bool {
        match self.libs.remove(name) {
            Some(lib) => {
                let table = self.table().ok();
                for f in &lib.functions {
                    self.by_name.remove(&f.name);
                    if let Some(t) = &table {
                        let _ = t.raw_set(f.name.as_str(), LuaValue::Nil);
                    }
                }
                true
            }
            None => false,
        }
    }

    /// Loads a library from its code (FUNCTION LOAD, RDB, RESTORE).
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let name = parse_metadata(code)?;
        if self.libs.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let lib = self.compile(code)?;
        let name = lib.name.clone();
        self.add(lib, replace)?;
        Ok(name)
    }
}

/// `#!lua name=<lib>`: returns the library name.
fn parse_metadata(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let line = &code[..code.iter().position(|&c| c == b'\n').unwrap_or(code.len())];
    let mut parts = line.split(|c| *c == b' ').filter(|p| !p.is_empty());
    let engine = &parts.next().unwrap_or(b"#!")[2..];
    let mut name: Option<&[u8]> = None;
    for p in parts {
        match p.strip_prefix(b"name=") {
            Some(n) => name = Some(n),
            None => return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(p))),
        }
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!("Engine '{}' not found", String::from_utf8_lossy(engine)));
    }
    if !valid_name(name) {
        return Err(NAME_ERR.into());
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// The environment a library's code runs in at load time.
fn load_env(lua: &Lua, pending: Rc<RefCell<Vec<Pending>>>) -> mlua::Result<Table> {
    let register = lua.create_function(
        move |lua, args: MultiValue| match register_function(lua, &args, &pending) {
            Ok(()) => Ok(MultiValue::new()),
            Err(msg) => {
                let t = lua.create_table()?;
                t.raw_set("err", format!("ERR {msg}"))?;
                let mut mv = MultiValue::new();
                mv.push_back(super::lua_libs::sentinel());
                mv.push_back(LuaValue::Table(t));
                Ok(mv)
            }
        },
    )?;
    let g = lua.globals();
    let redis: Table = g.raw_get("redis")?;
    let make: Function = lua
        .load(
            r#"
            local S, register, log, redis = ...
            local error, setmetatable, tostring = error, setmetatable, tostring
            local function missing(_, k)
                error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
            end
            local function readonly() error("Attempt to modify a readonly table", 2) end
            local r = {
                register_function = register,
                log = log,
                LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
                LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
                REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
            }
            setmetatable(r, {__index = missing, __newindex = readonly})
            local env = {}
            setmetatable(env, {
                __index = function(t, k)
                    if k == 'redis' then return r end
                    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
                end,
                __newindex = readonly,
            })
            return env
            "#,
        )
        .set_name("=shoal_fn_load")
        .into_function()?;
    make.call((
        super::lua_libs::sentinel(),
        super::lua_libs::raising(lua, register)?,
        redis.get::<LuaValue>("log")?,
        redis,
    ))
}

fn register_function(lua: &Lua, args: &MultiValue, pending: &Rc<RefCell<Vec<Pending>>>) -> Result<(), String> {
    let (mut name, mut callback, mut flags, mut desc) = (None::<Vec<u8>>, None::<Function>, 0u32, None::<Vec<u8>>);
    match args.len() {
        1 => {
            let LuaValue::Table(t) = &args[0] else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
            };
            for pair in t.clone().pairs::<LuaValue, LuaValue>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                let key = match &k {
                    LuaValue::String(s) => s.as_bytes().to_vec(),
                    _ => return Err("named argument key given to redis.register_function is not a string".into()),
                };
                match &key[..] {
                    b"function_name" => {
                        name = Some(
                            lua_str(&v)
                                .ok_or("function_name argument given to redis.register_function must be a string")?,
                        )
                    }
                    b"description" => {
                        desc = Some(
                            lua_str(&v)
                                .ok_or("description argument given to redis.register_function must be a string")?,
                        )
                    }
                    b"callback" => match v {
                        LuaValue::Function(f) => callback = Some(f),
                        _ => return Err("callback argument given to redis.register_function must be a function".into()),
                    },
                    b"flags" => {
                        let LuaValue::Table(ft) = v else {
                            return Err(
                                "flags argument to redis.register_function must be a table representing function flags"
                                    .into(),
                            );
                        };
                        for f in ft.sequence_values::<LuaValue>() {
                            let f = f.map_err(|e| e.to_string())?;
                            let bit = lua_str(&f).and_then(|s| sflag::parse(&s)).ok_or("unknown flag given")?;
                            flags |= bit;
                        }
                    }
                    _ => return Err("unknown argument given to redis.register_function".into()),
                }
            }
            if name.is_none() {
                return Err("redis.register_function must get a function name argument".into());
            }
            if callback.is_none() {
                return Err("redis.register_function must get a callback argument".into());
            }
        }
        2 => {
            name = Some(lua_str(&args[0]).ok_or("first argument to redis.register_function must be a string")?);
            match &args[1] {
                LuaValue::Function(f) => callback = Some(f.clone()),
                _ => return Err("second argument to redis.register_function must be a function".into()),
            }
        }
        _ => return Err("wrong number of arguments to redis.register_function".into()),
    }
    let _ = lua;
    let name = name.unwrap_or_default();
    if !valid_name(&name) {
        return Err(NAME_ERR.into());
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut p = pending.borrow_mut();
    if p.iter().any(|f| f.name == name) {
        return Err("Function already exists in the library".into());
    }
    p.push(Pending {
        name,
        desc,
        flags,
        func: callback.expect("checked above"),
    });
    Ok(())
}

/// A string, or a number as Lua prints it (`lua_isstring`).
fn lua_str(v: &LuaValue) -> Option<Vec<u8>> {
    match v {
        LuaValue::String(s) => Some(s.as_bytes().to_vec()),
        LuaValue::Integer(i) => Some(i.to_string().into_bytes()),
        LuaValue::Number(n) => Some(super::lua_libs::fmt_g(*n, 14).into_bytes()),
        _ => None,
    }
}

fn fcall_generic(ctx: &mut Ctx, args: &[&[u8]], ro: bool) {
    let Some((keys, argv)) = scripting::keys_and_args(ctx, args, "ERR Bad number of keys provided") else {
        return;
    };
    let fname = String::from_utf8_lossy(args[1]).into_owned();
    let fs = &mut ctx.srv.scripts.functions;
    let Some(lib) = fs.by_name.get(&fname).and_then(|l| fs.libs.get(l)) else {
        ctx.out().error("ERR Function not found");
        return;
    };
    let Some(info) = lib.functions.iter().find(|f| f.name == fname) else {
        ctx.out().error("ERR Function not found");
        return;
    };
    let flags = info.flags;
    if ro && flags & sflag::NO_WRITES == 0 {
        ctx.out()
            .error("ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    if let Some(e) = scripting::refused_by_flags(ctx, flags) {
        ctx.out().error(e);
        return;
    }
    let Some(lua) = ctx.srv.scripts.functions.lua.take() else {
        ctx.out().error("ERR Function not found");
        return;
    };
    let func = match lua
        .named_registry_value::<Table>(FUNCTIONS_TABLE)
        .and_then(|t| t.raw_get::<Function>(fname.as_str()))
    {
        Ok(f) => f,
        Err(_) => {
            ctx.srv.scripts.functions.lua = Some(lua);
            ctx.out().error("ERR Function not found");
            return;
        }
    };
    let tables = (|| -> mlua::Result<(LuaValue, LuaValue)> {
        let mk = |items: &[&[u8]]| -> mlua::Result<LuaValue> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, it) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(it)?)?;
            }
            Ok(LuaValue::Table(t))
        };
        Ok((mk(&keys)?, mk(&argv)?))
    })();
    match tables {
        Ok((k, a)) => scripting::run(
            ctx,
            &lua,
            &func,
            k,
            a,
            &fname,
            flags & sflag::NO_WRITES != 0,
            false,
            args,
        ),
        Err(e) => ctx.out().error(&format!("ERR {e}")),
    }
    // A FUNCTION FLUSH cannot run meanwhile, so the state goes back.
    ctx.srv.scripts.functions.lua = Some(lua);
}

pub fn fcall(ctx: &mut Ctx, args: &[&[u8]]) {
    fcall_generic(ctx, args, false)
}

pub fn fcall_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    fcall_generic(ctx, args, true)
}

pub fn function_load(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if eq_ic(args[i], "replace") {
            replace = true;
        } else {
            ctx.out().error(&format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(args[i])
            ));
            return;
        }
        i += 1;
    }
    let code = args[args.len() - 1];
    match ctx.srv.scripts.functions.load(code, replace) {
        Ok(name) => ctx.out().bulk(name.as_bytes()),
        Err(e) => {
            ctx.propagate_nothing();
            ctx.out().error(&format!("ERR {e}"))
        }
    }
}

pub fn function_delete(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = String::from_utf8_lossy(args[2]).into_owned();
    if ctx.srv.scripts.functions.remove(&name) {
        ctx.out().ok();
    } else {
        ctx.out().error("ERR Library not found");
    }
}

pub fn function_flush(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 || (args.len() == 3 && !eq_ic(args[2], "async") && !eq_ic(args[2], "sync")) {
        ctx.out().error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    ctx.srv.scripts.functions.clear();
    ctx.out().ok();
}

pub fn function_kill(ctx: &mut Ctx, _args: &[&[u8]]) {
    scripting::kill(ctx, false)
}

pub fn function_stats(ctx: &mut Ctx, _args: &[&[u8]]) {
    let running = match &ctx.srv.scripts.running {
        Some(r) if r.is_eval => {
            ctx.out().error(scripting::BUSY_EVAL);
            return;
        }
        Some(r) => Some((r.name.clone(), r.argv.clone(), r.start.elapsed().as_millis() as i64)),
        None => None,
    };
    let fs = &ctx.srv.scripts.functions;
    let (libs, funcs) = (fs.libs.len(), fs.by_name.len());
    let out = &mut ctx.client.out;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        None => out.null(),
        Some((name, argv, ms)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(argv.len());
            for a in &argv {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(ms);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(funcs as i64);
}

pub fn function_list(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        if eq_ic(args[i], "withcode") && !with_code {
            with_code = true;
        } else if eq_ic(args[i], "libraryname") && pattern.is_none() {
            if i + 1 >= args.len() {
                ctx.out().error("ERR library name argument was not given");
                return;
            }
            pattern = Some(args[i + 1]);
            i += 1;
        } else {
            ctx.out()
                .error(&format!("ERR Unknown argument {}", String::from_utf8_lossy(args[i])));
            return;
        }
        i += 1;
    }
    let libs: Vec<&Library> = ctx
        .srv
        .scripts
        .functions
        .libs
        .values()
        .filter(|l| pattern.is_none_or(|p| shoal_util::glob::glob_match(p, l.name.as_bytes(), true)))
        .collect();
    let out = &mut ctx.client.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.desc {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = sflag::NAMES
                .iter()
                .filter(|(_, b)| f.flags & b != 0)
                .map(|(n, _)| *n)
                .collect();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
}

/// The DUMP payload of every library.
pub fn dump_payload(fs: &Functions, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in fs.codes() {
        out.push(OP_FUNCTION2);
        write_string(&mut out, &code, compress);
    }
    out.extend_from_slice(&shoal_persist::RDB_VERSION.to_le_bytes());
    let crc = shoal_util::crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

pub fn function_dump(ctx: &mut Ctx, _args: &[&[u8]]) {
    let compress = super::persistence::options(ctx.srv).compress;
    let payload = dump_payload(&ctx.srv.scripts.functions, compress);
    ctx.out().bulk(&payload);
}

/// Library codes in a payload (DUMP body without the footer).
fn parse_libraries(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while r.pos < body.len() {
        let op = r.u8().map_err(|e| e.0)?;
        match op {
            OP_FUNCTION2 => codes.push(r.string().map_err(|e| e.0)?),
            OP_FUNCTION_PRE_GA => return Err("Pre-GA function format not supported".into()),
            _ => return Err("given type is not a function".into()),
        }
    }
    Ok(codes)
}

pub fn function_restore(ctx: &mut Ctx, args: &[&[u8]]) {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if eq_ic(p, "append") => Policy::Append,
        Some(p) if eq_ic(p, "replace") => Policy::Replace,
        Some(p) if eq_ic(p, "flush") => Policy::Flush,
        Some(_) => {
            ctx.out()
                .error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    };
    if args.len() > 4 {
        ctx.out().error("ERR syntax error");
        return;
    }
    let Some(body) = shoal_persist::dump::verify(args[2]) else {
        ctx.out().error("ERR DUMP payload version or checksum are wrong");
        return;
    };
    let codes = match parse_libraries(body) {
        Ok(c) => c,
        Err(e) => {
            ctx.out().error(&format!("ERR {e}"));
            return;
        }
    };
    // Compile everything in a scratch engine first: a failure changes nothing.
    let mut scratch = Functions::default();
    for code in &codes {
        if let Err(e) = scratch.load(code, false) {
            ctx.out().error(&format!("ERR {e}"));
            return;
        }
    }
    let fs = &mut ctx.srv.scripts.functions;
    if policy == Policy::Append {
        for name in scratch.libs.keys() {
            if fs.libs.contains_key(name) {
                ctx.out().error(&format!("ERR Library {name} already exists"));
                return;
            }
        }
    }
    // Check function-name collisions with libraries that stay.
    if policy != Policy::Flush {
        for lib in scratch.libs.values() {
            for f in &lib.functions {
                if let Some(owner) = fs.by_name.get(&f.name) {
                    if !(policy == Policy::Replace && *owner == lib.name) {
                        ctx.out().error(&format!("ERR Function {} already exists", f.name));
                        return;
                    }
                }
            }
        }
    }
    if policy == Policy::Flush {
        fs.clear();
    }
    // Reload into the live engine (the scratch state's functions cannot move
    // between Lua states).
    for code in &codes {
        if let Err(e) = fs.load(code, true) {
            ctx.out().error(&format!("ERR {e}"));
            return;
        }
    }
    ctx.out().ok();
}

pub fn function_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
}

/// Loads the libraries of an RDB file (replacing same-named ones).
pub fn load_from_rdb(fs: &mut Functions, codes: &[Vec<u8>]) -> Result<(), String> {
    for code in codes {
        fs.load(code, true)?;
    }
    Ok(())
}
