//! The ACL command: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT,
//! GENPASS, LOG, SAVE, LOAD, DRYRUN, HELP. Users and checks live in
//! [`crate::acl`].

use super::server::subcommand_syntax_error;
use super::{eq_ic, err, find_subcommand, help_reply, parse_int, Ctx};
use crate::acl::{self, Denied, LogEntry, User, CATEGORIES};
use crate::client::ClientState;
use crate::server::{unix_ms, Server};
use crate::warning;

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// The bytes before the first NUL (Redis formats names with `%s`).
fn text(a: &[u8]) -> String {
    String::from_utf8_lossy(crate::dispatch::until_nul(a)).into_owned()
}

// ---------------------------------------------------------------------------
// Checks and the log, used by dispatch and AUTH

/// The id of the client a Lua script runs its commands on (real clients
/// are numbered from 1).
const SCRIPT_CLIENT_ID: u64 = 0;

/// Context of a denial for the ACL log.
fn log_context(c: &ClientState) -> &'static str {
    if c.id == SCRIPT_CLIENT_ID {
        "lua"
    } else if c.multi.is_some() || c.in_exec {
        "multi"
    } else {
        "toplevel"
    }
}

/// Records a denial in the ACL log.
pub fn log_denial(srv: &mut Server, c: &ClientState, reason: Denied, object: &[u8], username: Option<&[u8]>) {
    let entry = LogEntry {
        count: 1,
        reason,
        context: log_context(c),
        object: object.to_vec(),
        username: username.map_or_else(|| c.user.as_bytes().to_vec(), |u| u.to_vec()),
        ctime_ms: unix_ms(),
        client_info: super::client::info_line(srv, c),
    };
    let max = srv.config.acllog_max_len as usize;
    srv.acl.add_log(entry, max);
}

/// The permission check before a command runs, for clients whose user is
/// not unrestricted: false (after replying NOPERM and logging) when denied.
pub fn check_command(srv: &mut Server, c: &mut ClientState, spec: &'static super::CommandSpec, args: &[&[u8]]) -> bool {
    let Some(user) = srv.acl.user(c.user.as_bytes()) else {
        return true;
    };
    let Err((denied, pos)) = user.check(spec, args) else {
        return true;
    };
    let object: &[u8] = match denied {
        Denied::Command => spec.name.as_bytes(),
        _ => args[pos],
    };
    // The log shows the denied command as the client's current one.
    // (and, inside EXEC, as still in its transaction: flag `x`).
    let last = c.last_cmd;
    c.last_cmd = spec.name;
    let in_exec_queue = c.in_exec && c.multi.is_none() && c.id != SCRIPT_CLIENT_ID;
    if in_exec_queue {
        c.multi = Some(Vec::new());
    }
    log_denial(srv, c, denied, object, None);
    if in_exec_queue {
        c.multi = None;
    }
    c.last_cmd = last;
    let msg = if c.id == SCRIPT_CLIENT_ID {
        let what = match denied {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key => "can't access at least one of the keys mentioned in the command arguments",
            _ => "can't publish to the channel mentioned in the command",
        };
        format!("ERR The user executing the script {what}")
    } else if c.in_exec {
        let reason = match denied {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key => "no permission to touch the specified keys",
            _ => "no permission to access one of the channels used as arguments",
        };
        format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}")
    } else {
        match denied {
            Denied::Command => format!("NOPERM this user has no permissions to run the '{}' command", spec.name),
            Denied::Key => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
            _ => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
        }
    };
    c.out.error(&msg);
    false
}

/// Whether the calling client may read any key with this command (SORT's
/// BY and GET patterns need it).
pub fn full_key_read(srv: &Server, c: &ClientState, args: &[&[u8]]) -> bool {
    if srv.acl.unrestricted(&c.user) {
        return true;
    }
    let (Some(user), Some(spec)) = (srv.acl.user(c.user.as_bytes()), srv.commands.get(args[0])) else {
        return true;
    };
    user.full_key_read(spec, args)
}

/// Logs a failed AUTH / HELLO AUTH (object: the command as typed).
pub fn log_auth_failure(srv: &mut Server, c: &ClientState, command: &[u8], username: &[u8]) {
    log_denial(srv, c, Denied::Auth, command, Some(username));
}

/// Disconnects every client authenticated as `name` (the user was deleted):
/// others at once, the caller after its reply.
fn kill_clients_of(srv: &mut Server, me: &mut ClientState, name: &[u8]) {
    let victims: Vec<usize> = srv
        .clients
        .iter()
        .filter(|(_, c)| c.state.user.as_bytes() == name)
        .map(|(i, _)| i)
        .collect();
    for idx in victims {
        if let Some(c) = srv.clients.get_mut(idx) {
            c.state.user = "default".into();
            c.state.authenticated = false;
            c.state.close_asap = true;
            srv.pending_writes.push(idx);
        }
    }
    if me.user.as_bytes() == name {
        me.user = "default".into();
        me.authenticated = false;
        me.close_after_reply = true;
    }
}

/// After SETUSER: subscribed clients of the user whose channels are no longer
/// allowed are disconnected, as Redis does.
fn kill_pubsub_clients(srv: &mut Server, me: &mut ClientState, old: &User, new: &User) {
    let Some(upcoming) = acl::pubsub_kill_check(old, new) else {
        return;
    };
    let name = &new.name;
    let victims: Vec<usize> = srv
        .clients
        .iter()
        .filter(|(_, c)| {
            let s = &c.state;
            s.user.as_bytes() == &name[..]
                && s.subscribed()
                && !acl::subscriptions_allowed(&upcoming, &s.channels, &s.patterns, &s.shard_channels)
        })
        .map(|(i, _)| i)
        .collect();
    for idx in victims {
        if let Some(c) = srv.clients.get_mut(idx) {
            c.state.close_asap = true;
            srv.pending_writes.push(idx);
        }
    }
    if me.user.as_bytes() == &name[..]
        && me.subscribed()
        && !acl::subscriptions_allowed(&upcoming, &me.channels, &me.patterns, &me.shard_channels)
    {
        me.close_after_reply = true;
    }
}

// ---------------------------------------------------------------------------
// Subcommands

pub fn setuser(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = args[2];
    if name.iter().any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b) {
        ctx.out().error("ERR Usernames can't contain spaces or null characters");
        return;
    }
    let rules = match acl::merge_selector_args(&args[3..]) {
        Ok(r) => r,
        Err(i) => {
            ctx.out().error(&format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                text(args[3 + i])
            ));
            return;
        }
    };
    match ctx.srv.acl.set_user(name, &rules) {
        Ok((old, new)) => {
            if let Some(old) = old {
                kill_pubsub_clients(ctx.srv, ctx.client, &old, &new);
            }
            ctx.out().ok();
        }
        Err((rule, e)) => {
            ctx.out().error(&format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                text(&rule),
                e.message()
            ));
        }
    }
}

pub fn getuser(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(u) = ctx.srv.acl.user(args[2]).cloned() else {
        ctx.out().null();
        return;
    };
    let flags = acl::user_flags(&u);
    let passwords = acl::user_passwords(&u).to_vec();
    let mut sels = acl::selector_fields(&u);
    let root = sels.remove(0);
    let out = ctx.out();
    out.map(6);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(passwords.len());
    for p in &passwords {
        out.bulk(p.as_bytes());
    }
    let selector = |out: &mut shoal_resp::Reply, (cmds, keys, chans): &(String, String, String)| {
        out.bulk(b"commands");
        out.bulk(cmds.as_bytes());
        out.bulk(b"keys");
        out.bulk(keys.as_bytes());
        out.bulk(b"channels");
        out.bulk(chans.as_bytes());
    };
    selector(out, &root);
    out.bulk(b"selectors");
    out.array(sels.len());
    for s in &sels {
        out.map(3);
        selector(out, s);
    }
}

pub fn deluser(ctx: &mut Ctx, args: &[&[u8]]) {
    if args[2..].iter().any(|n| *n == b"default") {
        ctx.out().error("ERR The 'default' user cannot be removed");
        return;
    }
    let mut deleted = 0;
    for name in &args[2..] {
        if ctx.srv.acl.delete_user(name) {
            kill_clients_of(ctx.srv, ctx.client, name);
            deleted += 1;
        }
    }
    ctx.out().int(deleted);
}

pub fn list(ctx: &mut Ctx, _args: &[&[u8]]) {
    let lines: Vec<String> = ctx
        .srv
        .acl
        .users()
        .map(|u| format!("user {} {}", String::from_utf8_lossy(&u.name), u.describe()))
        .collect();
    let out = ctx.out();
    out.array(lines.len());
    for l in lines {
        out.bulk(l.as_bytes());
    }
}

pub fn users(ctx: &mut Ctx, _args: &[&[u8]]) {
    let names: Vec<Vec<u8>> = ctx.srv.acl.users().map(|u| u.name.clone()).collect();
    let out = ctx.out();
    out.array(names.len());
    for n in names {
        out.bulk(&n);
    }
}

pub fn whoami(ctx: &mut Ctx, _args: &[&[u8]]) {
    let name = ctx.client.user.clone();
    ctx.out().bulk(name.as_bytes());
}

pub fn cat(ctx: &mut Ctx, args: &[&[u8]]) {
    match args.len() {
        2 => {
            let out = ctx.out();
            out.array(CATEGORIES.len());
            for c in CATEGORIES {
                out.bulk(c.as_bytes());
            }
        }
        3 => {
            let Some(cat) = acl::category_by_name(args[2]) else {
                let name: String = text(args[2]).chars().take(128).collect();
                ctx.out().error(&format!("ERR Unknown category '{name}'"));
                return;
            };
            let names = acl::category_commands(cat);
            let out = ctx.out();
            out.array(names.len());
            for n in names {
                out.bulk(n.as_bytes());
            }
        }
        _ => subcommand_syntax_error(ctx, args),
    }
}

fn random_hex(ctx: &mut Ctx, chars: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !ok {
        for b in bytes.iter_mut() {
            *b = ctx.srv.rng.below(256) as u8;
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(chars + 1);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s.truncate(chars);
    s
}

pub fn genpass(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        subcommand_syntax_error(ctx, args);
        return;
    }
    let bits = match args.get(2) {
        None => 256,
        Some(a) => match parse_int(a) {
            Some(b) => b,
            None => {
                ctx.out().error(err::NOT_INT);
                return;
            }
        },
    };
    if bits <= 0 || bits > 4096 {
        ctx.out().error(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
        return;
    }
    let pass = random_hex(ctx, ((bits + 3) / 4) as usize);
    ctx.out().bulk(pass.as_bytes());
}

pub fn log(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        subcommand_syntax_error(ctx, args);
        return;
    }
    let mut count = 10i64;
    if let Some(a) = args.get(2) {
        if eq_ic(a, "reset") {
            ctx.srv.acl.log.clear();
            ctx.out().ok();
            return;
        }
        match parse_int(a) {
            Some(n) => count = n.max(0),
            None => {
                ctx.out().error(err::NOT_INT);
                return;
            }
        }
    }
    let now = unix_ms();
    let n = (count as usize).min(ctx.srv.acl.log.len());
    let Ctx { srv, client } = ctx;
    let out = &mut client.out;
    out.array(n);
    for e in srv.acl.log.iter().take(n) {
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason_name().as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        let age = (now - e.ctime_ms) as f64 / 1000.0;
        out.double_text(&shoal_util::num::format_double(age));
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
}

pub fn save(ctx: &mut Ctx, _args: &[&[u8]]) {
    let path = ctx.srv.config.aclfile.clone();
    if path.is_empty() {
        ctx.out().error(NO_ACLFILE);
        return;
    }
    let body = ctx.srv.acl.file_text();
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), unix_ms());
    let result = std::fs::write(&tmp, body).and_then(|_| std::fs::rename(&tmp, &path));
    match result {
        Ok(()) => ctx.out().ok(),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            warning!("Writing ACL file for ACL SAVE: {e}");
            ctx.out().error(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            );
        }
    }
}

/// Reads and parses the ACL file: the new users, or Redis's error text.
fn read_acl_file(srv: &Server, path: &str) -> Result<std::collections::BTreeMap<Vec<u8>, User>, String> {
    let body = std::fs::read(path).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" (os error").next().unwrap_or_default().to_string();
        format!("Error loading ACLs, opening file '{path}': {msg}")
    })?;
    srv.acl.parse_file(&String::from_utf8_lossy(&body), path)
}

pub fn load(ctx: &mut Ctx, _args: &[&[u8]]) {
    let path = ctx.srv.config.aclfile.clone();
    if path.is_empty() {
        ctx.out().error(NO_ACLFILE);
        return;
    }
    match read_acl_file(ctx.srv, &path) {
        Ok(users) => {
            let old: Vec<Vec<u8>> = ctx
                .srv
                .acl
                .users()
                .filter(|u| u.name != b"default")
                .map(|u| u.name.clone())
                .collect();
            ctx.srv.acl.replace_users(users);
            for name in old {
                kill_clients_of(ctx.srv, ctx.client, &name);
            }
            ctx.out().ok();
        }
        Err(e) => ctx.out().error(&format!("ERR {e}")),
    }
}

/// Start-up: users from `user` lines of the configuration, then the ACL file.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let path = srv.config.aclfile.clone();
    let lines = srv.config.user.clone();
    if !path.is_empty() && !lines.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    for line in &lines {
        let Some((name, rules)) = line.split_first() else {
            continue;
        };
        let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        let merged = acl::merge_selector_args(&rules)
            .map_err(|_| format!("Unmatched parenthesis in selector definition for user '{name}'"))?;
        let mut all = vec![b"reset".to_vec()];
        all.extend(merged);
        if name != "default" {
            all.remove(0);
        }
        if let Err((rule, e)) = srv.acl.set_user(name.as_bytes(), &all) {
            return Err(format!(
                "Error loading ACL rule '{}' for the user named '{name}': {}",
                String::from_utf8_lossy(&rule),
                e.message()
            ));
        }
    }
    if !path.is_empty() {
        let users = read_acl_file(srv, &path)?;
        srv.acl.replace_users(users);
    }
    Ok(())
}

pub fn dryrun(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(user) = ctx.srv.acl.user(args[2]).cloned() else {
        ctx.out().error(&format!("ERR User '{}' not found", text(args[2])));
        return;
    };
    let cmd_args = &args[3..];
    let spec = ctx.srv.commands.get(cmd_args[0]).and_then(|spec| {
        if cmd_args.len() == 1 || spec.subcommands.is_empty() {
            Some(spec)
        } else {
            find_subcommand(spec, cmd_args[1])
        }
    });
    let Some(spec) = spec else {
        ctx.out()
            .error(&format!("ERR Command '{}' not found", text(cmd_args[0])));
        return;
    };
    if !spec.arity_ok(cmd_args.len()) {
        ctx.out()
            .error(&format!("ERR wrong number of arguments for '{}' command", spec.name));
        return;
    }
    match user.check(spec, cmd_args) {
        Ok(()) => ctx.out().ok(),
        Err((denied, pos)) => {
            let msg = match denied {
                Denied::Command => format!("This user has no permissions to run the '{}' command", spec.name),
                Denied::Key => format!(
                    "This user has no permissions to access the '{}' key",
                    text(cmd_args[pos])
                ),
                _ => format!(
                    "This user has no permissions to access the '{}' channel",
                    text(cmd_args[pos])
                ),
            };
            ctx.out().bulk(msg.as_bytes());
        }
    }
}

pub fn help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
}
