//! The Lua libraries Redis gives scripts besides the standard ones: `cjson`,
//! `cmsgpack`, `bit` and `struct`, written here from their documented and
//! observed behaviour (lua-cjson 2.1.0, lua-cmsgpack 0.4.0, LuaBitOp 1.0 and
//! Roberto Ierusalimschy's struct library as Redis 7.0 ships them).
//!
//! Rust callbacks cannot raise plain Lua string errors through mlua, so every
//! function here is wrapped by a small C trampoline ([`raising`]): a Rust
//! function that fails returns a sentinel light userdata followed by the
//! message, and the trampoline raises it with the caller's position
//! (`user_script:1: ...`) exactly like `luaL_error` does in C.

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;

type LResult = Result<MultiValue, String>;

static SENTINEL: u8 = 0;
static BOXED: u8 = 0;

/// The address of the light userdata that marks a failed call.
pub fn sentinel_ptr() -> *mut std::ffi::c_void {
    &SENTINEL as *const u8 as *mut std::ffi::c_void
}

/// The address of the light userdata that marks a boxed number.
fn boxed_ptr() -> *mut std::ffi::c_void {
    &BOXED as *const u8 as *mut std::ffi::c_void
}

/// The light userdata that marks a failed call.
pub fn sentinel() -> Value {
    Value::LightUserData(LightUserData(sentinel_ptr()))
}

/// `cjson.null`: a NULL light userdata, as lua-cjson uses.
pub fn null() -> Value {
    Value::NULL
}

/// A number argument read exactly: mlua turns -0 and tiny numbers into the
/// integer 0, so the trampoline boxes those (a table marked with light
/// userdata holding the number).
pub fn exact_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::Table(t) => boxed_number(t),
        _ => None,
    }
}

fn boxed_number(t: &Table) -> Option<f64> {
    let marker = Value::LightUserData(LightUserData(boxed_ptr()));
    match t.raw_get::<Value>(marker) {
        Ok(Value::Boolean(true)) => t.raw_get::<f64>(1).ok(),
        _ => None,
    }
}

/// A table's value, with numbers read exactly.
fn exact_value(t: &Table, k: &Value, v: Value) -> Value {
    match v {
        Value::Integer(0) => t.raw_get::<f64>(k.clone()).map(Value::Number).unwrap_or(v),
        v => v,
    }
}

/// Lua's name of a value's type, as error messages print it.
fn type_name(v: Option<&Value>) -> &'static str {
    if let Some(Value::Table(t)) = v {
        if boxed_number(t).is_some() {
            return "number";
        }
    }
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::LightUserData(_)) | Some(Value::UserData(_)) => "userdata",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

fn bad_arg(n: usize, fname: &str, msg: &str) -> String {
    format!("bad argument #{n} to '{fname}' ({msg})")
}

/// `luaL_checknumber`: numbers, and strings that convert to one.
fn check_number(lua: &Lua, args: &[Value], i: usize, fname: &str) -> Result<f64, String> {
    match args.get(i) {
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::Table(t)) if boxed_number(t).is_some() => Ok(boxed_number(t).unwrap_or(0.0)),
        Some(v @ Value::String(_)) => match lua.coerce_number(v.clone()) {
            Ok(Some(n)) => Ok(n),
            _ => Err(bad_arg(i + 1, fname, "number expected, got string")),
        },
        other => Err(bad_arg(
            i + 1,
            fname,
            &format!("number expected, got {}", type_name(other)),
        )),
    }
}

/// `luaL_checklstring`: strings, and numbers as Lua prints them.
fn check_string(args: &[Value], i: usize, fname: &str) -> Result<Vec<u8>, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(fmt_g(*n as f64, 14).into_bytes()),
        Some(Value::Number(n)) => Ok(fmt_g(*n, 14).into_bytes()),
        Some(Value::Table(t)) if boxed_number(t).is_some() => {
            Ok(fmt_g(boxed_number(t).unwrap_or(0.0), 14).into_bytes())
        }
        other => Err(bad_arg(
            i + 1,
            fname,
            &format!("string expected, got {}", type_name(other)),
        )),
    }
}

/// C's `%.<prec>g` (Lua prints numbers with `%.14g`).
pub fn fmt_g(v: f64, prec: usize) -> String {
    let mut buf = [0u8; 64];
    let fmt = format!("%.{prec}g\0");
    // SAFETY: the buffer is large enough for any %g output of a double with
    // at most 14 digits, and the format string is NUL-terminated.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            v,
        )
    };
    String::from_utf8_lossy(&buf[..(n.max(0) as usize).min(buf.len() - 1)]).into_owned()
}

/// The C function scripts call: it calls its upvalue (a Rust or Lua
/// function) with the same arguments; when that returns the failure sentinel
/// it raises the value after it, as `luaL_error` would: a string gets the
/// caller's position (`user_script:1: `), a table is raised as it is. Being a
/// C function, it keeps the caller's frame even when called in a tail call.
unsafe extern "C-unwind" fn raising_trampoline(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(l);
    // mlua reads -0 and numbers below f64::EPSILON as the integer 0: box them
    // so the callee can read them exactly (see `exact_number`).
    for i in 1..=n {
        if ffi::lua_type(l, i) == ffi::LUA_TNUMBER {
            let v = ffi::lua_tonumber(l, i);
            if (v == 0.0 && v.is_sign_negative()) || (v != 0.0 && v.abs() < f64::EPSILON) {
                ffi::lua_createtable(l, 1, 1);
                ffi::lua_pushnumber(l, v);
                ffi::lua_rawseti(l, -2, 1);
                ffi::lua_pushlightuserdata(l, boxed_ptr());
                ffi::lua_pushboolean(l, 1);
                ffi::lua_rawset(l, -3);
                ffi::lua_replace(l, i);
            }
        }
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    let nres = ffi::lua_gettop(l);
    if nres >= 1 && ffi::lua_type(l, 1) == ffi::LUA_TLIGHTUSERDATA && ffi::lua_touserdata(l, 1) == sentinel_ptr() {
        if ffi::lua_type(l, 2) == ffi::LUA_TSTRING {
            ffi::luaL_where(l, 1);
            ffi::lua_pushvalue(l, 2);
            ffi::lua_concat(l, 2);
        } else {
            ffi::lua_pushvalue(l, 2);
        }
        ffi::lua_error(l);
    }
    nres
}

/// Wraps `f` (which reports failures as the sentinel followed by the error
/// value) into a C function that raises them.
pub fn raising(lua: &Lua, f: mlua::Function) -> mlua::Result<mlua::Function> {
    // SAFETY: pushes one C closure over the function already on the stack.
    unsafe {
        lua.exec_raw::<mlua::Function>(f, |l| {
            mlua::ffi::lua_pushcclosure(l, raising_trampoline, 1);
        })
    }
}

/// Registers a Rust function under `name` in `t`, wrapped so its failures
/// become Lua errors.
fn register<F>(lua: &Lua, t: &Table, name: &str, f: F) -> mlua::Result<()>
where
    F: Fn(&Lua, Vec<Value>) -> LResult + 'static,
{
    let raw = lua.create_function(move |lua, args: MultiValue| match f(lua, args.into_iter().collect()) {
        Ok(v) => Ok(v),
        Err(msg) => {
            let mut mv = MultiValue::new();
            mv.push_back(sentinel());
            mv.push_back(Value::String(lua.create_string(&msg)?));
            Ok(mv)
        }
    })?;
    t.raw_set(name, raising(lua, raw)?)
}

fn one(v: Value) -> LResult {
    let mut mv = MultiValue::new();
    mv.push_back(v);
    Ok(mv)
}

fn num(n: f64) -> Value {
    Value::Number(n)
}

fn lstr(lua: &Lua, b: &[u8]) -> Result<Value, String> {
    lua.create_string(b).map(Value::String).map_err(|e| e.to_string())
}

/// Installs the four libraries as globals.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("cjson", cjson::new_module(lua)?)?;
    g.raw_set("cmsgpack", cmsgpack::new_module(lua)?)?;
    g.raw_set("bit", bitop::new_module(lua)?)?;
    g.raw_set("struct", structlib::new_module(lua)?)?;
    Ok(())
}

mod cjson {
    use super::*;

    #[derive(Clone)]
    struct Cfg {
        encode_max_depth: i64,
        decode_max_depth: i64,
        precision: usize,
        sparse_convert: bool,
        sparse_ratio: i64,
        sparse_safe: i64,
        /// 0 off, 1 on, 2 "null"
        encode_invalid: u8,
        decode_invalid: bool,
        keep_buffer: bool,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Cfg {
                encode_max_depth: 1000,
                decode_max_depth: 1000,
                precision: 14,
                sparse_convert: false,
                sparse_ratio: 2,
                sparse_safe: 10,
                encode_invalid: 0,
                decode_invalid: true,
                keep_buffer: true,
            }
        }
    }

    type Shared = Rc<RefCell<Cfg>>;

    pub fn new_module(lua: &Lua) -> mlua::Result<Table> {
        let cfg: Shared = Rc::new(RefCell::new(Cfg::default()));
        let t = lua.create_table()?;
        let c = cfg.clone();
        register(lua, &t, "encode", move |lua, args| {
            if args.len() != 1 {
                return Err(bad_arg(1, "encode", "expected 1 argument"));
            }
            let cfg = c.borrow().clone();
            let mut out = Vec::new();
            encode(&cfg, &args[0], 0, &mut out)?;
            one(lstr(lua, &out)?)
        })?;
        let c = cfg.clone();
        register(lua, &t, "decode", move |lua, args| {
            if args.len() != 1 {
                return Err(bad_arg(1, "decode", "expected 1 argument"));
            }
            let text = check_string(&args, 0, "decode")?;
            let cfg = c.borrow().clone();
            let mut p = Parser {
                s: &text,
                pos: 0,
                err_pos: 0,
                cfg: &cfg,
                depth: 0,
                lua,
            };
            one(p.decode_top()?)
        })?;
        let c = cfg.clone();
        register(lua, &t, "encode_max_depth", move |_, args| {
            int_option(
                &args,
                "encode_max_depth",
                1,
                i32::MAX as i64,
                &mut c.borrow_mut().encode_max_depth,
            )
        })?;
        let c = cfg.clone();
        register(lua, &t, "decode_max_depth", move |_, args| {
            int_option(
                &args,
                "decode_max_depth",
                1,
                i32::MAX as i64,
                &mut c.borrow_mut().decode_max_depth,
            )
        })?;
        let c = cfg.clone();
        register(lua, &t, "encode_number_precision", move |_, args| {
            let mut p = c.borrow().precision as i64;
            let r = int_option(&args, "encode_number_precision", 1, 14, &mut p);
            c.borrow_mut().precision = p as usize;
            r
        })?;
        let c = cfg.clone();
        register(lua, &t, "encode_keep_buffer", move |lua, args| {
            let mut v = c.borrow().keep_buffer as u8;
            enum_option(lua, &args, "encode_keep_buffer", false, &mut v)?;
            c.borrow_mut().keep_buffer = v != 0;
            one(Value::Boolean(v != 0))
        })?;
        let c = cfg.clone();
        register(lua, &t, "encode_invalid_numbers", move |lua, args| {
            let mut v = c.borrow().encode_invalid;
            enum_option(lua, &args, "encode_invalid_numbers", true, &mut v)?;
            c.borrow_mut().encode_invalid = v;
            one(if v == 2 {
                lstr(lua, b"null")?
            } else {
                Value::Boolean(v != 0)
            })
        })?;
        let c = cfg.clone();
        register(lua, &t, "decode_invalid_numbers", move |lua, args| {
            let mut v = c.borrow().decode_invalid as u8;
            enum_option(lua, &args, "decode_invalid_numbers", false, &mut v)?;
            c.borrow_mut().decode_invalid = v != 0;
            one(Value::Boolean(v != 0))
        })?;
        let c = cfg.clone();
        register(lua, &t, "encode_sparse_array", move |lua, args| {
            let mut cfg = c.borrow_mut();
            let mut conv = cfg.sparse_convert as u8;
            let first: Vec<Value> = args.iter().take(1).cloned().collect();
            enum_option(lua, &first, "encode_sparse_array", false, &mut conv)?;
            cfg.sparse_convert = conv != 0;
            if let Some(v) = args.get(1).filter(|v| !v.is_nil()) {
                let n = check_number(lua, &args, 1, "encode_sparse_array")?;
                let _ = v;
                if !(0.0..=i32::MAX as f64).contains(&n) {
                    return Err(bad_arg(
                        2,
                        "encode_sparse_array",
                        "expected integer between 0 and 2147483647",
                    ));
                }
                cfg.sparse_ratio = n as i64;
            }
            if args.get(2).is_some_and(|v| !v.is_nil()) {
                let n = check_number(lua, &args, 2, "encode_sparse_array")?;
                if !(0.0..=i32::MAX as f64).contains(&n) {
                    return Err(bad_arg(
                        3,
                        "encode_sparse_array",
                        "expected integer between 0 and 2147483647",
                    ));
                }
                cfg.sparse_safe = n as i64;
            }
            let mut mv = MultiValue::new();
            mv.push_back(Value::Boolean(cfg.sparse_convert));
            mv.push_back(num(cfg.sparse_ratio as f64));
            mv.push_back(num(cfg.sparse_safe as f64));
            Ok(mv)
        })?;
        t.raw_set("new", lua.create_function(move |lua, _: MultiValue| new_module(lua))?)?;
        t.raw_set("null", null())?;
        t.raw_set("_NAME", "cjson")?;
        t.raw_set("_VERSION", "2.1.0")?;
        Ok(t)
    }

    fn int_option(args: &[Value], name: &str, min: i64, max: i64, slot: &mut i64) -> LResult {
        if let Some(v) = args.first().filter(|v| !v.is_nil()) {
            let n = match v {
                Value::Integer(i) => *i as f64,
                Value::Number(n) => *n,
                _ => f64::NAN,
            };
            if !(n >= min as f64 && n <= max as f64) {
                return Err(bad_arg(1, name, &format!("expected integer between {min} and {max}")));
            }
            *slot = n as i64;
        }
        one(num(*slot as f64))
    }

    /// Booleans, or "off"/"on" (and "null" where allowed).
    fn enum_option(_lua: &Lua, args: &[Value], name: &str, allow_null: bool, slot: &mut u8) -> Result<(), String> {
        match args.first() {
            None | Some(Value::Nil) => {}
            Some(Value::Boolean(b)) => *slot = *b as u8,
            Some(Value::String(s)) => {
                let s = s.as_bytes();
                match &s[..] {
                    b"off" => *slot = 0,
                    b"on" => *slot = 1,
                    b"null" if allow_null => *slot = 2,
                    other => {
                        return Err(bad_arg(
                            1,
                            name,
                            &format!("invalid option '{}'", String::from_utf8_lossy(other)),
                        ))
                    }
                }
            }
            Some(v) => {
                return Err(bad_arg(
                    1,
                    name,
                    &format!("string expected, got {}", type_name(Some(v))),
                ))
            }
        }
        Ok(())
    }

    fn encode_string(s: &[u8], out: &mut Vec<u8>) {
        out.push(b'"');
        for &c in s {
            match c {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'/' => out.extend_from_slice(b"\\/"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                8 => out.extend_from_slice(b"\\b"),
                12 => out.extend_from_slice(b"\\f"),
                c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
                c => out.push(c),
            }
        }
        out.push(b'"');
    }

    fn encode_number(cfg: &Cfg, n: f64, out: &mut Vec<u8>) -> Result<(), String> {
        if !n.is_finite() {
            match cfg.encode_invalid {
                0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
                2 => {
                    out.extend_from_slice(b"null");
                    return Ok(());
                }
                _ => {
                    let s = if n.is_nan() {
                        "nan"
                    } else if n > 0.0 {
                        "inf"
                    } else {
                        "-inf"
                    };
                    out.extend_from_slice(s.as_bytes());
                    return Ok(());
                }
            }
        }
        out.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
        Ok(())
    }

    fn encode(cfg: &Cfg, v: &Value, depth: i64, out: &mut Vec<u8>) -> Result<(), String> {
        match v {
            Value::Nil => out.extend_from_slice(b"null"),
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(i) => encode_number(cfg, *i as f64, out)?,
            Value::Number(n) => encode_number(cfg, *n, out)?,
            Value::String(s) => encode_string(&s.as_bytes(), out),
            Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
            Value::Table(t) if boxed_number(t).is_some() => encode_number(cfg, boxed_number(t).unwrap_or(0.0), out)?,
            Value::Table(t) => {
                let depth = depth + 1;
                if depth > cfg.encode_max_depth {
                    return Err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                // Array when every key is a positive integer.
                let mut max = 0i64;
                let mut items = 0i64;
                let mut is_array = true;
                for pair in t.clone().pairs::<Value, Value>() {
                    let (k, _) = pair.map_err(|e| e.to_string())?;
                    let kn = match k {
                        Value::Integer(i) => Some(i as f64),
                        Value::Number(n) => Some(n),
                        _ => None,
                    };
                    match kn {
                        Some(n) if n >= 1.0 && n.floor() == n => {
                            if n as i64 > max {
                                max = n as i64;
                            }
                            items += 1;
                        }
                        _ => {
                            is_array = false;
                            break;
                        }
                    }
                }
                if is_array && cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio && max > cfg.sparse_safe {
                    if !cfg.sparse_convert {
                        return Err("Cannot serialise table: excessively sparse array".into());
                    }
                    is_array = false;
                }
                if is_array && max > 0 {
                    out.push(b'[');
                    for i in 1..=max {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                        let item = exact_value(t, &Value::Integer(i), item);
                        encode(cfg, &item, depth, out)?;
                    }
                    out.push(b']');
                } else {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.clone().pairs::<Value, Value>() {
                        let (k, val) = pair.map_err(|e| e.to_string())?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::Integer(i) => {
                                out.push(b'"');
                                encode_number(cfg, *i as f64, out)?;
                                out.push(b'"');
                            }
                            Value::Number(n) => {
                                out.push(b'"');
                                encode_number(cfg, *n, out)?;
                                out.push(b'"');
                            }
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            other => {
                                return Err(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    type_name(Some(other))
                                ))
                            }
                        }
                        out.push(b':');
                        let val = exact_value(t, &k, val);
                        encode(cfg, &val, depth, out)?;
                    }
                    out.push(b'}');
                }
            }
            other => {
                return Err(format!(
                    "Cannot serialise {}: type not supported",
                    type_name(Some(other))
                ))
            }
        }
        Ok(())
    }

    #[derive(Debug)]
    enum Tok {
        ObjBegin,
        ObjEnd,
        ArrBegin,
        ArrEnd,
        Str(Vec<u8>),
        Num(f64),
        Bool(bool),
        Null,
        Colon,
        Comma,
        End,
        /// An error: its text is what "found ..." shows.
        Error(&'static str),
    }

    fn tok_name(t: &Tok) -> &'static str {
        match t {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str(_) => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }

    struct Parser<'a> {
        s: &'a [u8],
        pos: usize,
        /// Where a string token's error is (an escape, or the end).
        err_pos: usize,
        cfg: &'a Cfg,
        depth: i64,
        lua: &'a Lua,
    }

    /// strtod's longest prefix: returns the value and the bytes used (0: none).
    pub(super) fn strtod(s: &[u8]) -> (f64, usize) {
        let mut buf: Vec<u8> = s.iter().take(400).copied().take_while(|&c| c != 0).collect();
        buf.push(0);
        let mut end: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: buf is NUL-terminated; end points into it afterwards.
        let v = unsafe { libc::strtod(buf.as_ptr() as *const libc::c_char, &mut end) };
        let used = end as usize - buf.as_ptr() as usize;
        (v, used)
    }

    impl Parser<'_> {
        fn err_at(&self, expected: &str, tok: &Tok, at: usize) -> String {
            format!(
                "Expected {expected} but found {} at character {}",
                tok_name(tok),
                at + 1
            )
        }

        fn next_token(&mut self) -> (Tok, usize) {
            while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            }
            let start = self.pos;
            if self.pos >= self.s.len() {
                return (Tok::End, start);
            }
            let c = self.s[self.pos];
            let single = match c {
                b'{' => Some(Tok::ObjBegin),
                b'}' => Some(Tok::ObjEnd),
                b'[' => Some(Tok::ArrBegin),
                b']' => Some(Tok::ArrEnd),
                b',' => Some(Tok::Comma),
                b':' => Some(Tok::Colon),
                _ => None,
            };
            if let Some(t) = single {
                self.pos += 1;
                return (t, start);
            }
            if c == b'"' {
                let t = self.string_token();
                if matches!(t, Tok::Error(_)) {
                    return (t, self.err_pos);
                }
                return (t, start);
            }
            if c == b'-' || c.is_ascii_digit() {
                return (self.number_token(), start);
            }
            let rest = &self.s[self.pos..];
            for (word, tok) in [
                (&b"true"[..], Tok::Bool(true)),
                (&b"false"[..], Tok::Bool(false)),
                (&b"null"[..], Tok::Null),
            ] {
                if rest.starts_with(word) {
                    self.pos += word.len();
                    return (tok, start);
                }
            }
            if self.cfg.decode_invalid && Self::invalid_number_start(rest) {
                return (self.number_token(), start);
            }
            (Tok::Error("invalid token"), start)
        }

        /// Forms strtod accepts that JSON does not: '+', hex, leading zeros,
        /// inf and nan.
        fn invalid_number_start(s: &[u8]) -> bool {
            let mut p = s;
            if p.first() == Some(&b'+') {
                return true;
            }
            if p.first() == Some(&b'-') {
                p = &p[1..];
            }
            if p.first() == Some(&b'0') {
                return p.get(1).is_some_and(|c| (c | 0x20) == b'x' || c.is_ascii_digit());
            }
            if p.first().is_some_and(|c| *c <= b'9') {
                return false;
            }
            let lower: Vec<u8> = p.iter().take(3).map(|c| c.to_ascii_lowercase()).collect();
            lower == b"inf" || lower == b"nan"
        }

        fn number_token(&mut self) -> Tok {
            let rest = &self.s[self.pos..];
            if !self.cfg.decode_invalid && Self::invalid_number_start(rest) {
                return Tok::Error("invalid number");
            }
            let (v, used) = strtod(rest);
            if used == 0 {
                return Tok::Error("invalid number");
            }
            self.pos += used;
            Tok::Num(v)
        }

        fn hex4(&self, at: usize) -> Option<u32> {
            let h = self.s.get(at..at + 4)?;
            let mut v = 0u32;
            for &c in h {
                v = v * 16 + (c as char).to_digit(16)?;
            }
            Some(v)
        }

        fn string_token(&mut self) -> Tok {
            self.pos += 1;
            let mut out = Vec::new();
            loop {
                self.err_pos = self.pos;
                let Some(&c) = self.s.get(self.pos) else {
                    return Tok::Error("unexpected end of string");
                };
                match c {
                    b'"' => {
                        self.pos += 1;
                        return Tok::Str(out);
                    }
                    b'\\' => {
                        let Some(&e) = self.s.get(self.pos + 1) else {
                            return Tok::Error("unexpected end of string");
                        };
                        let simple = match e {
                            b'"' => Some(b'"'),
                            b'\\' => Some(b'\\'),
                            b'/' => Some(b'/'),
                            b'b' => Some(8),
                            b'f' => Some(12),
                            b'n' => Some(b'\n'),
                            b'r' => Some(b'\r'),
                            b't' => Some(b'\t'),
                            _ => None,
                        };
                        if let Some(ch) = simple {
                            out.push(ch);
                            self.pos += 2;
                            continue;
                        }
                        if e != b'u' {
                            return Tok::Error("invalid escape code");
                        }
                        let bad = Tok::Error("invalid unicode escape code");
                        let Some(mut cp) = self.hex4(self.pos + 2) else {
                            return bad;
                        };
                        let mut len = 6;
                        if (0xDC00..=0xDFFF).contains(&cp) {
                            return bad;
                        }
                        if (0xD800..=0xDBFF).contains(&cp) {
                            if self.s.get(self.pos + 6) != Some(&b'\\') || self.s.get(self.pos + 7) != Some(&b'u') {
                                return bad;
                            }
                            let Some(lo) = self.hex4(self.pos + 8) else {
                                return bad;
                            };
                            if !(0xDC00..=0xDFFF).contains(&lo) {
                                return bad;
                            }
                            cp = (((cp & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000;
                            len = 12;
                        }
                        let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                        let mut b = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        self.pos += len;
                    }
                    c => {
                        out.push(c);
                        self.pos += 1;
                    }
                }
            }
        }

        fn decode_top(&mut self) -> Result<Value, String> {
            let (tok, at) = self.next_token();
            let v = self.value(tok, at)?;
            let (tok, at) = self.next_token();
            if !matches!(tok, Tok::End) {
                return Err(self.err_at("the end", &tok, at));
            }
            Ok(v)
        }

        fn enter(&mut self, at: usize) -> Result<(), String> {
            self.depth += 1;
            if self.depth > self.cfg.decode_max_depth {
                return Err(format!(
                    "Found too many nested data structures ({}) at character {}",
                    self.depth,
                    at + 1
                ));
            }
            Ok(())
        }

        fn value(&mut self, tok: Tok, at: usize) -> Result<Value, String> {
            let lua = self.lua;
            Ok(match tok {
                Tok::Str(s) => lstr(lua, &s)?,
                Tok::Num(n) => Value::Number(n),
                Tok::Bool(b) => Value::Boolean(b),
                Tok::Null => null(),
                Tok::ArrBegin => {
                    self.enter(at)?;
                    let t = lua.create_table().map_err(|e| e.to_string())?;
                    let (mut tok, mut at) = self.next_token();
                    if !matches!(tok, Tok::ArrEnd) {
                        let mut i = 1;
                        loop {
                            let v = self.value(tok, at)?;
                            t.raw_set(i, v).map_err(|e| e.to_string())?;
                            i += 1;
                            let (sep, sat) = self.next_token();
                            match sep {
                                Tok::ArrEnd => break,
                                Tok::Comma => {}
                                other => return Err(self.err_at("comma or array end", &other, sat)),
                            }
                            (tok, at) = self.next_token();
                        }
                    }
                    self.depth -= 1;
                    Value::Table(t)
                }
                Tok::ObjBegin => {
                    self.enter(at)?;
                    let t = lua.create_table().map_err(|e| e.to_string())?;
                    let (mut tok, mut at) = self.next_token();
                    if !matches!(tok, Tok::ObjEnd) {
                        loop {
                            let key = match tok {
                                Tok::Str(k) => k,
                                other => return Err(self.err_at("object key string", &other, at)),
                            };
                            let (colon, cat) = self.next_token();
                            if !matches!(colon, Tok::Colon) {
                                return Err(self.err_at("colon", &colon, cat));
                            }
                            let (vt, vat) = self.next_token();
                            let v = self.value(vt, vat)?;
                            t.raw_set(lstr(lua, &key)?, v).map_err(|e| e.to_string())?;
                            let (sep, sat) = self.next_token();
                            match sep {
                                Tok::ObjEnd => break,
                                Tok::Comma => {}
                                other => return Err(self.err_at("comma or object end", &other, sat)),
                            }
                            (tok, at) = self.next_token();
                        }
                    }
                    self.depth -= 1;
                    Value::Table(t)
                }
                other => return Err(self.err_at("value", &other, at)),
            })
        }
    }
}

mod cmsgpack {
    use super::*;

    const MAX_NESTING: usize = 16;

    pub fn new_module(lua: &Lua) -> mlua::Result<Table> {
        let t = lua.create_table()?;
        register(lua, &t, "pack", |_lua, args| {
            if args.is_empty() {
                return Err(bad_arg(0, "pack", "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for a in args.iter() {
                pack(a, 0, &mut out);
            }
            one(lstr(_lua, &out)?)
        })?;
        register(lua, &t, "unpack", |lua, args| {
            let s = check_string(&args, 0, "unpack")?;
            unpack_full(lua, &s, 0, 0, false)
        })?;
        register(lua, &t, "unpack_one", |lua, args| {
            let s = check_string(&args, 0, "unpack_one")?;
            let offset = opt_int(lua, &args, 1, "unpack_one")?;
            unpack_full(lua, &s, 1, offset, true)
        })?;
        register(lua, &t, "unpack_limit", |lua, args| {
            let s = check_string(&args, 0, "unpack_limit")?;
            let limit = opt_int(lua, &args, 1, "unpack_limit")?;
            let offset = opt_int(lua, &args, 2, "unpack_limit")?;
            unpack_full(lua, &s, limit, offset, true)
        })?;
        t.raw_set("_NAME", "cmsgpack")?;
        t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
        t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
        t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
        Ok(t)
    }

    fn opt_int(lua: &Lua, args: &[Value], i: usize, fname: &str) -> Result<i64, String> {
        match args.get(i) {
            None | Some(Value::Nil) => Ok(0),
            _ => Ok(check_number(lua, args, i, fname)? as i64),
        }
    }

    fn pack_len(out: &mut Vec<u8>, n: usize, fix: u8, fix_max: usize, c16: u8, c32: u8) {
        if n < fix_max {
            out.push(fix | n as u8);
        } else if n <= 0xffff {
            out.push(c16);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            out.push(c32);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    fn pack_int(n: i64, out: &mut Vec<u8>) {
        if n >= 0 {
            if n < 128 {
                out.push(n as u8);
            } else if n < 256 {
                out.extend_from_slice(&[0xcc, n as u8]);
            } else if n < 65536 {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            } else if n <= u32::MAX as i64 {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            } else {
                out.push(0xcf);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        } else if n >= -32 {
            out.push(n as i8 as u8);
        } else if n >= -128 {
            out.extend_from_slice(&[0xd0, n as i8 as u8]);
        } else if n >= -32768 {
            out.push(0xd1);
            out.extend_from_slice(&(n as i16).to_be_bytes());
        } else if n >= i32::MIN as i64 {
            out.push(0xd2);
            out.extend_from_slice(&(n as i32).to_be_bytes());
        } else {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    fn pack_number(n: f64, out: &mut Vec<u8>) {
        if n.floor() == n && (-9.223372036854776e18..9.223372036854776e18).contains(&n) {
            pack_int(n as i64, out);
        } else if (n as f32) as f64 == n || (n.is_infinite()) {
            out.push(0xca);
            out.extend_from_slice(&(n as f32).to_bits().to_be_bytes());
        } else {
            out.push(0xcb);
            out.extend_from_slice(&n.to_bits().to_be_bytes());
        }
    }

    fn pack(v: &Value, level: usize, out: &mut Vec<u8>) {
        match v {
            Value::Nil => out.push(0xc0),
            Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Value::Integer(i) => pack_int(*i, out),
            Value::Number(n) => pack_number(*n, out),
            Value::Table(t) if boxed_number(t).is_some() => pack_number(boxed_number(t).unwrap_or(0.0), out),
            Value::String(s) => {
                let b = s.as_bytes();
                if b.len() < 32 {
                    out.push(0xa0 | b.len() as u8);
                } else if b.len() < 256 {
                    out.extend_from_slice(&[0xd9, b.len() as u8]);
                } else {
                    pack_len(out, b.len(), 0, 0, 0xda, 0xdb);
                }
                out.extend_from_slice(&b);
            }
            Value::Table(t) if level < MAX_NESTING => {
                // An array when the keys are exactly 1..n.
                let mut count = 0usize;
                let mut max = 0f64;
                let mut array = true;
                for pair in t.clone().pairs::<Value, Value>() {
                    let Ok((k, _)) = pair else {
                        array = false;
                        break;
                    };
                    count += 1;
                    let kn = match k {
                        Value::Integer(i) => i as f64,
                        Value::Number(n) => n,
                        _ => {
                            array = false;
                            continue;
                        }
                    };
                    if kn <= 0.0 || kn.floor() != kn {
                        array = false;
                    } else if kn > max {
                        max = kn;
                    }
                }
                if array && max as usize != count {
                    array = false;
                }
                if array {
                    pack_len(out, count, 0x90, 16, 0xdc, 0xdd);
                    for i in 1..=count {
                        let item: Value = t.raw_get(i).unwrap_or(Value::Nil);
                        let item = exact_value(t, &Value::Integer(i as i64), item);
                        pack(&item, level + 1, out);
                    }
                } else {
                    pack_len(out, count, 0x80, 16, 0xde, 0xdf);
                    for (k, val) in t.clone().pairs::<Value, Value>().flatten() {
                        let val = exact_value(t, &k, val);
                        pack(&k, level + 1, out);
                        pack(&val, level + 1, out);
                    }
                }
            }
            _ => out.push(0xc0),
        }
    }

    struct Reader<'a> {
        s: &'a [u8],
        pos: usize,
    }

    const MISSING: &str = "Missing bytes in input.";
    const BAD: &str = "Bad data format in input.";

    impl Reader<'_> {
        fn take(&mut self, n: usize) -> Result<&[u8], String> {
            if self.s.len() - self.pos < n {
                return Err(MISSING.into());
            }
            let r = &self.s[self.pos..self.pos + n];
            self.pos += n;
            Ok(r)
        }
        fn uint(&mut self, n: usize) -> Result<u64, String> {
            Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
        }

        fn value(&mut self, lua: &Lua) -> Result<Value, String> {
            let c = self.take(1)?[0];
            let v = match c {
                0x00..=0x7f => num(c as f64),
                0xe0..=0xff => num(c as i8 as f64),
                0xa0..=0xbf => self.string(lua, (c & 0x1f) as usize)?,
                0x90..=0x9f => self.array(lua, (c & 0x0f) as usize)?,
                0x80..=0x8f => self.map(lua, (c & 0x0f) as usize)?,
                0xc0 => Value::Nil,
                0xc2 => Value::Boolean(false),
                0xc3 => Value::Boolean(true),
                0xca => num(f32::from_bits(self.uint(4)? as u32) as f64),
                0xcb => num(f64::from_bits(self.uint(8)?)),
                0xcc => num(self.uint(1)? as f64),
                0xcd => num(self.uint(2)? as f64),
                0xce => num(self.uint(4)? as f64),
                0xcf => num(self.uint(8)? as i64 as f64),
                0xd0 => num(self.uint(1)? as u8 as i8 as f64),
                0xd1 => num(self.uint(2)? as u16 as i16 as f64),
                0xd2 => num(self.uint(4)? as u32 as i32 as f64),
                0xd3 => num(self.uint(8)? as i64 as f64),
                0xd9 => {
                    let n = self.uint(1)? as usize;
                    self.string(lua, n)?
                }
                0xda => {
                    let n = self.uint(2)? as usize;
                    self.string(lua, n)?
                }
                0xdb => {
                    let n = self.uint(4)? as usize;
                    self.string(lua, n)?
                }
                0xdc => {
                    let n = self.uint(2)? as usize;
                    self.array(lua, n)?
                }
                0xdd => {
                    let n = self.uint(4)? as usize;
                    self.array(lua, n)?
                }
                0xde => {
                    let n = self.uint(2)? as usize;
                    self.map(lua, n)?
                }
                0xdf => {
                    let n = self.uint(4)? as usize;
                    self.map(lua, n)?
                }
                _ => return Err(BAD.into()),
            };
            Ok(v)
        }

        fn string(&mut self, lua: &Lua, n: usize) -> Result<Value, String> {
            let b = self.take(n)?.to_vec();
            lstr(lua, &b)
        }

        fn array(&mut self, lua: &Lua, n: usize) -> Result<Value, String> {
            let t = lua.create_table().map_err(|e| e.to_string())?;
            for i in 1..=n {
                let v = self.value(lua)?;
                t.raw_set(i, v).map_err(|e| e.to_string())?;
            }
            Ok(Value::Table(t))
        }

        fn map(&mut self, lua: &Lua, n: usize) -> Result<Value, String> {
            let t = lua.create_table().map_err(|e| e.to_string())?;
            for _ in 0..n {
                let k = self.value(lua)?;
                let v = self.value(lua)?;
                if k.is_nil() || matches!(k, Value::Number(n) if n.is_nan()) {
                    continue;
                }
                t.raw_set(k, v).map_err(|e| e.to_string())?;
            }
            Ok(Value::Table(t))
        }
    }

    fn unpack_full(lua: &Lua, s: &[u8], limit: i64, offset: i64, with_offset: bool) -> LResult {
        let len = s.len() as i64;
        if offset < 0 || limit < 0 {
            return Err(format!(
                "Invalid request to unpack with offset of {offset} and limit of {len}."
            ));
        }
        if offset > len {
            return Err(format!("Start offset {offset} greater than input length {len}."));
        }
        let mut r = Reader {
            s,
            pos: offset as usize,
        };
        let with_offset = with_offset && limit > 0;
        let mut vals = Vec::new();
        while r.pos < s.len() && (limit == 0 || (vals.len() as i64) < limit) {
            vals.push(r.value(lua)?);
        }
        let mut mv = MultiValue::new();
        if with_offset {
            mv.push_back(num(if r.pos >= s.len() { -1.0 } else { r.pos as f64 }));
        }
        mv.extend(vals);
        Ok(mv)
    }
}

mod bitop {
    use super::*;

    /// LuaBitOp's conversion: round to nearest (ties to even) and wrap to 32 bits.
    fn tobit(n: f64) -> i32 {
        (n + 6755399441055744.0).to_bits() as u32 as i32
    }

    fn arg(lua: &Lua, args: &[Value], i: usize, f: &str) -> Result<i32, String> {
        check_number(lua, args, i, f).map(tobit)
    }

    fn ret(v: i32) -> LResult {
        one(num(v as f64))
    }

    pub fn new_module(lua: &Lua) -> mlua::Result<Table> {
        let t = lua.create_table()?;
        register(lua, &t, "tobit", |lua, a| ret(arg(lua, &a, 0, "tobit")?))?;
        register(lua, &t, "bnot", |lua, a| ret(!arg(lua, &a, 0, "bnot")?))?;
        register(lua, &t, "bswap", |lua, a| ret(arg(lua, &a, 0, "bswap")?.swap_bytes()))?;
        register(lua, &t, "tohex", |lua, a| {
            let x = arg(lua, &a, 0, "tohex")? as u32;
            let mut n = match a.get(1) {
                None | Some(Value::Nil) => 8,
                _ => arg(lua, &a, 1, "tohex")?,
            };
            let upper = n < 0;
            if upper {
                n = n.wrapping_neg();
            }
            let n = (n as u32).min(8) as usize;
            let s = if upper { format!("{x:08X}") } else { format!("{x:08x}") };
            one(lstr(lua, &s.as_bytes()[8 - n..])?)
        })?;
        type Op = fn(i32, i32) -> i32;
        let folds: [(&str, Op); 3] = [("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
        for (name, op) in folds {
            register(lua, &t, name, move |lua, a| {
                let mut acc = arg(lua, &a, 0, name)?;
                for i in 1..a.len() {
                    acc = op(acc, arg(lua, &a, i, name)?);
                }
                ret(acc)
            })?;
        }
        let shifts: [(&str, Op); 5] = [
            ("lshift", |a, n| ((a as u32) << (n & 31)) as i32),
            ("rshift", |a, n| ((a as u32) >> (n & 31)) as i32),
            ("arshift", |a, n| a >> (n & 31)),
            ("rol", |a, n| (a as u32).rotate_left((n & 31) as u32) as i32),
            ("ror", |a, n| (a as u32).rotate_right((n & 31) as u32) as i32),
        ];
        for (name, op) in shifts {
            register(lua, &t, name, move |lua, a| {
                let x = arg(lua, &a, 0, name)?;
                let n = arg(lua, &a, 1, name)?;
                ret(op(x, n))
            })?;
        }
        Ok(t)
    }
}

mod structlib {
    use super::*;

    const MAXINTSIZE: usize = 32;
    const MAXALIGN: usize = 8;

    struct Fmt<'a> {
        s: &'a [u8],
        pos: usize,
        little: bool,
        align: usize,
    }

    enum Opt {
        /// An option letter with its size.
        Item(u8, usize),
        /// Nothing to read or write (endianness, alignment, spaces).
        Skip,
    }

    impl Fmt<'_> {
        fn number(&mut self, default: usize) -> usize {
            if !self.s.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                return default;
            }
            let mut n = 0usize;
            while let Some(c) = self.s.get(self.pos).filter(|c| c.is_ascii_digit()) {
                n = n.saturating_mul(10).saturating_add((c - b'0') as usize);
                self.pos += 1;
            }
            n
        }

        fn next(&mut self, fname: &str) -> Option<Result<Opt, String>> {
            let c = *self.s.get(self.pos)?;
            self.pos += 1;
            Some(Ok(match c {
                b'b' | b'B' | b'x' => Opt::Item(c, 1),
                b'h' | b'H' => Opt::Item(c, 2),
                b'l' | b'L' | b'T' | b'd' => Opt::Item(c, 8),
                b'f' => Opt::Item(c, 4),
                b's' => Opt::Item(c, 0),
                b'c' => {
                    let n = self.number(1);
                    Opt::Item(c, n)
                }
                b'i' | b'I' => {
                    let n = self.number(4);
                    if n > MAXINTSIZE {
                        return Some(Err(format!("integral size {n} is larger than limit of {MAXINTSIZE}")));
                    }
                    Opt::Item(c, n)
                }
                b' ' => Opt::Skip,
                b'>' => {
                    self.little = false;
                    Opt::Skip
                }
                b'<' => {
                    self.little = true;
                    Opt::Skip
                }
                b'!' => {
                    let a = self.number(MAXALIGN);
                    if !a.is_power_of_two() {
                        return Some(Err(format!("alignment {a} is not a power of 2")));
                    }
                    self.align = a;
                    Opt::Skip
                }
                other => {
                    return Some(Err(bad_arg(
                        1,
                        fname,
                        &format!("invalid format option '{}'", other as char),
                    )))
                }
            }))
        }

        fn padding(&self, opt: u8, size: usize, total: usize) -> Result<usize, String> {
            if size <= 1 || opt == b'c' {
                return Ok(0);
            }
            let a = size.min(self.align);
            if !a.is_power_of_two() {
                return Err(format!("alignment {a} is not a power of 2"));
            }
            Ok((a - (total & (a - 1))) & (a - 1))
        }
    }

    fn put_int(out: &mut Vec<u8>, v: u64, little: bool, size: usize) {
        let mut bytes = vec![0u8; size];
        let mut x = v;
        for i in 0..size.min(8) {
            let b = (x & 0xff) as u8;
            x >>= 8;
            if little {
                bytes[i] = b;
            } else {
                bytes[size - 1 - i] = b;
            }
        }
        if size > 8 && (v as i64) < 0 {
            // The value was sign-extended only through its own 8 bytes.
        }
        out.extend_from_slice(&bytes);
    }

    fn new_fmt(s: &[u8]) -> Fmt<'_> {
        Fmt {
            s,
            pos: 0,
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }

    pub fn new_module(lua: &Lua) -> mlua::Result<Table> {
        let t = lua.create_table()?;
        register(lua, &t, "pack", |lua, mut args| {
            let fmt = check_string(&args, 0, "pack")?;
            // Missing values read as nil, as the C library sees them.
            args.resize(args.len().max(64), Value::Nil);
            let mut f = new_fmt(&fmt);
            let mut out = Vec::new();
            let mut arg = 1;
            while let Some(opt) = f.next("pack") {
                let Opt::Item(c, mut size) = opt? else {
                    continue;
                };
                let pad = f.padding(c, size, out.len())?;
                out.resize(out.len() + pad, 0);
                match c {
                    b'x' => out.push(0),
                    b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                        let n = check_number(lua, &args, arg, "pack")?;
                        arg += 1;
                        let v = if matches!(c, b'B' | b'H' | b'L' | b'T' | b'I') {
                            if n < 0.0 {
                                n as i64 as u64
                            } else {
                                n as u64
                            }
                        } else {
                            n as i64 as u64
                        };
                        put_int(&mut out, v, f.little, size);
                    }
                    b'f' => {
                        let n = check_number(lua, &args, arg, "pack")?;
                        arg += 1;
                        let b = (n as f32).to_bits();
                        put_int(&mut out, b as u64, f.little, 4);
                    }
                    b'd' => {
                        let n = check_number(lua, &args, arg, "pack")?;
                        arg += 1;
                        put_int(&mut out, n.to_bits(), f.little, 8);
                    }
                    b'c' | b's' => {
                        let s = check_string(&args, arg, "pack")?;
                        arg += 1;
                        if size == 0 {
                            size = s.len();
                        }
                        if s.len() < size {
                            return Err(bad_arg(arg + 1, "pack", "string too short"));
                        }
                        out.extend_from_slice(&s[..size]);
                        if c == b's' {
                            out.push(0);
                        }
                    }
                    _ => {}
                }
            }
            one(lstr(lua, &out)?)
        })?;
        register(lua, &t, "unpack", |lua, args| {
            let fmt = check_string(&args, 0, "unpack")?;
            let data = check_string(&args, 1, "unpack")?;
            let init = match args.get(2) {
                None | Some(Value::Nil) => 1,
                _ => check_number(lua, &args, 2, "unpack")? as i64,
            };
            if init == 0 {
                return Err(bad_arg(3, "unpack", "offset must be 1 or greater"));
            }
            let mut pos = (init - 1) as usize;
            let mut f = new_fmt(&fmt);
            let mut mv = MultiValue::new();
            let too_short = || bad_arg(2, "unpack", "data string too short");
            let mut prev: Option<f64> = None;
            while let Some(opt) = f.next("unpack") {
                let Opt::Item(c, mut size) = opt? else {
                    continue;
                };
                let pad = f.padding(c, size, pos)?;
                pos = pos.wrapping_add(pad);
                if c != b's' && c != b'c' && (pos > data.len() || data.len() - pos < size) {
                    return Err(too_short());
                }
                let get = |p: usize, n: usize, signed: bool, little: bool| -> f64 {
                    let bytes = &data[p..p + n];
                    let mut v: u64 = 0;
                    for i in 0..n {
                        let b = if little { bytes[n - 1 - i] } else { bytes[i] };
                        v = (v << 8) | b as u64;
                    }
                    if signed && n < 8 && n > 0 {
                        let mask = 1u64 << (n * 8 - 1);
                        ((v ^ mask).wrapping_sub(mask)) as i64 as f64
                    } else if signed {
                        v as i64 as f64
                    } else {
                        v as f64
                    }
                };
                match c {
                    b'x' => {
                        pos += 1;
                        continue;
                    }
                    b'b' | b'h' | b'l' | b'i' | b'B' | b'H' | b'L' | b'T' | b'I' => {
                        let signed = c.is_ascii_lowercase();
                        let v = get(pos, size, signed, f.little);
                        prev = Some(v);
                        mv.push_back(num(v));
                    }
                    b'f' => {
                        let v = f32::from_bits(get(pos, 4, false, f.little) as u32) as f64;
                        prev = Some(v);
                        mv.push_back(num(v));
                    }
                    b'd' => {
                        let bytes = &data[pos..pos + 8];
                        let mut arr = [0u8; 8];
                        arr.copy_from_slice(bytes);
                        let v = if f.little {
                            f64::from_le_bytes(arr)
                        } else {
                            f64::from_be_bytes(arr)
                        };
                        prev = Some(v);
                        mv.push_back(num(v));
                    }
                    b'c' => {
                        if size == 0 {
                            let Some(p) = prev.take() else {
                                return Err("format 'c0' needs a previous size".into());
                            };
                            mv.pop_back();
                            size = p as usize;
                        }
                        if pos > data.len() || data.len() - pos < size {
                            return Err(too_short());
                        }
                        mv.push_back(lstr(lua, &data[pos..pos + size])?);
                    }
                    b's' => {
                        if pos > data.len() {
                            return Err(too_short());
                        }
                        let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                            return Err("unfinished string in data".into());
                        };
                        mv.push_back(lstr(lua, &data[pos..pos + end])?);
                        size = end + 1;
                    }
                    _ => {}
                }
                pos += size;
            }
            mv.push_back(num((pos + 1) as f64));
            Ok(mv)
        })?;
        register(lua, &t, "size", |_lua, args| {
            let fmt = check_string(&args, 0, "size")?;
            let mut f = new_fmt(&fmt);
            let mut total = 0usize;
            while let Some(opt) = f.next("size") {
                let Opt::Item(c, size) = opt? else {
                    continue;
                };
                if c == b's' {
                    return Err(bad_arg(1, "size", "option 's' has no fixed size"));
                }
                if c == b'c' && size == 0 {
                    return Err(bad_arg(1, "size", "option 'c0' has no fixed size"));
                }
                total += f.padding(c, size, total)?;
                total += size;
            }
            one(num(total as f64))
        })?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format() {
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1e300, 14), "1e+300");
        assert_eq!(fmt_g(-0.0, 14), "-0");
    }

    #[test]
    fn strtod_prefix() {
        assert_eq!(cjson::strtod(b"12]"), (12.0, 2));
        assert_eq!(cjson::strtod(b"x").1, 0);
    }
}
