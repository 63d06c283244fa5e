//! Reading configuration text: the command line of `shoal-server`, config
//! files with `include`, and the per-line directive dispatch.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Source};
use crate::field::{Ctx, Mode, WRONG_ARGS};
use crate::parse::{repr, split_args, strerror};
use crate::table::{lookup, Arity, Directive, Kind};
use crate::Config;

const BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";
const MAX_INCLUDE_DEPTH: usize = 16;

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Lines from `start_line` on (1-based) came from `source`.
type Segments = [(usize, Option<Source>)];

fn source_of(segments: &Segments, line: usize) -> Option<Source> {
    segments
        .iter()
        .rev()
        .find(|(start, _)| *start <= line)
        .and_then(|(_, s)| s.clone())
}

fn trim(line: &[u8]) -> &[u8] {
    let is_trim = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !is_trim(c)).unwrap_or(line.len());
    let end = line.iter().rposition(|c| !is_trim(c)).map_or(start, |e| e + 1);
    &line[start..end]
}

/// Reads a config file as redis-server does: a directory reads as empty.
fn read_config_file(path: &Path, shown: &str) -> Result<Vec<u8>, ConfigError> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(_) if path.is_dir() => Ok(Vec::new()),
        Err(e) => Err(ConfigError::Open {
            path: shown.to_string(),
            reason: strerror(&e),
        }),
    }
}

/// Prepares arguments for a directive per its arity; `Err` is the message.
pub(crate) fn prepare_args(d: &Directive, mut args: Vec<String>) -> Result<Vec<String>, &'static str> {
    let wrong = if d.has(Directive::FILE_ONLY) {
        BAD_DIRECTIVE
    } else {
        WRONG_ARGS
    };
    match d.kind.arity() {
        Arity::One if args.len() != 1 => return Err(wrong),
        Arity::Multi if args.len() == 1 => {
            if args[0].is_empty() {
                args.clear();
            } else if let Ok(split) = split_args(args[0].as_bytes()) {
                args = split.iter().map(|a| lossy(a)).collect();
            }
        }
        Arity::Exact(n) if args.len() != n => return Err(wrong),
        Arity::AtLeast(n) if args.len() < n => return Err(wrong),
        _ => {}
    }
    Ok(args)
}

pub(crate) struct Loader {
    pub cfg: Config,
    ctx: Ctx,
    depth: usize,
}

impl Loader {
    pub fn new() -> Self {
        Loader {
            cfg: Config::default(),
            ctx: Ctx::new(Mode::File),
            depth: 0,
        }
    }

    /// Reads config text line by line; `segments` say where lines came from.
    pub fn load_text(&mut self, text: &[u8], segments: &Segments) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let err = |msg: String| ConfigError::Directive {
                line: i + 1,
                text: lossy(line),
                msg,
                source: source_of(segments, i + 1),
            };
            let argv = split_args(line).map_err(|_| err("Unbalanced quotes in configuration line".into()))?;
            if argv.is_empty() {
                continue;
            }
            let name = lossy(&argv[0]);
            let args: Vec<String> = argv[1..].iter().map(|a| lossy(a)).collect();
            let Some((idx, d)) = lookup(&name) else {
                return Err(err(BAD_DIRECTIVE.into()));
            };
            match (d.kind, d.access) {
                (Kind::Include, _) => {
                    if args.len() != 1 {
                        return Err(err(BAD_DIRECTIVE.into()));
                    }
                    if self.depth >= MAX_INCLUDE_DEPTH {
                        return Err(err("Too many nested includes".into()));
                    }
                    let path = self.cfg.dir.join(&args[0]);
                    let content = read_config_file(&path, &args[0])?;
                    let abs = std::path::absolute(&path).unwrap_or(path);
                    self.depth += 1;
                    let r = self.load_text(&content, &[(1, Some(Source::File(abs)))]);
                    self.depth -= 1;
                    r?;
                }
                (Kind::Sentinel, _) => return Err(err("sentinel directive while not in sentinel mode".into())),
                (Kind::Deprecated, _) => {
                    if args.len() != 1 {
                        return Err(err(BAD_DIRECTIVE.into()));
                    }
                }
                (_, Some(access)) => {
                    let args = prepare_args(d, args).map_err(|m| err(m.into()))?;
                    (access.set)(&mut self.cfg, d, &args, &mut self.ctx).map_err(err)?;
                }
                (_, None) => return Err(err(BAD_DIRECTIVE.into())),
            }
            self.cfg.meta.user_set[idx] = true;
        }
        Ok(())
    }
}

/// The pieces of `shoal-server`'s command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandLine {
    pub config_file: Option<String>,
    pub read_stdin: bool,
    /// `--name value` options as config lines, joined by newlines.
    pub options: String,
}

/// Splits argv (without the program name) the way redis-server does.
pub(crate) fn parse_command_line(args: &[String]) -> Result<CommandLine, ConfigError> {
    let mut cl = CommandLine::default();
    let Some(first) = args.first() else {
        return Ok(cl);
    };
    match first.as_str() {
        "-v" | "--version" => return Err(ConfigError::Version),
        "-h" | "--help" => return Err(ConfigError::Help),
        "--test-memory" | "--check-system" => {
            return Err(ConfigError::Unsupported(format!(
                "shoal-server does not implement {first}"
            )))
        }
        _ => {}
    }
    if args.iter().any(|a| a.eq_ignore_ascii_case("--sentinel")) {
        return Err(ConfigError::Unsupported("shoal-server has no sentinel mode".into()));
    }
    let mut j = 0;
    if !first.starts_with('-') {
        cl.config_file = Some(first.clone());
        j = 1;
    }
    // After an option name with no value yet, the next word is its value
    // even if it starts with "--".
    let mut have_value = true;
    while j < args.len() {
        let a = &args[j];
        let last = j == args.len() - 1;
        if a == "-" && (j == 0 || last) {
            cl.read_stdin = true;
        } else if have_value && a.starts_with("--") {
            if !cl.options.is_empty() {
                cl.options.push('\n');
            }
            cl.options.push_str(&a[2..]);
            cl.options.push(' ');
            let words = split_args(a.as_bytes()).map(|w| w.len()).unwrap_or(1);
            if words == 1 {
                have_value = false;
                if a.eq_ignore_ascii_case("--save") && (last || args[j + 1].starts_with("--")) {
                    // `--save` with nothing after it means `save ""`.
                    cl.options.push_str("\"\"");
                    have_value = true;
                }
            } else {
                have_value = true;
            }
        } else {
            cl.options.push_str(&repr(a.as_bytes()));
            cl.options.push(' ');
            have_value = true;
        }
        j += 1;
    }
    Ok(cl)
}

fn count_lines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// `Config::from_args` with standard input supplied by the caller.
pub(crate) fn from_args_with_stdin(
    args: &[String],
    read_stdin: &mut dyn FnMut() -> io::Result<Vec<u8>>,
) -> Result<Config, ConfigError> {
    let cl = parse_command_line(args)?;
    let mut text = Vec::new();
    let mut segments = Vec::new();
    let mut config_file = None;
    if let Some(f) = &cl.config_file {
        let path = PathBuf::from(f);
        text = read_config_file(&path, f)?;
        let abs = std::path::absolute(&path).unwrap_or(path);
        segments.push((1, Some(Source::File(abs.clone()))));
        config_file = Some(abs);
    }
    if cl.read_stdin {
        let input = read_stdin().map_err(|e| ConfigError::Open {
            path: "-".into(),
            reason: strerror(&e),
        })?;
        segments.push((1 + count_lines(&text), Some(Source::Stdin)));
        text.extend_from_slice(&input);
    }
    if !cl.options.is_empty() {
        text.push(b'\n');
        segments.push((1 + count_lines(&text), Some(Source::CommandLine)));
        text.extend_from_slice(cl.options.as_bytes());
    }
    let mut loader = Loader::new();
    loader.load_text(&text, &segments)?;
    let mut cfg = loader.cfg;
    cfg.meta.config_file = config_file;
    check_after_load(&cfg)?;
    check_logfile(&cfg)?;
    Ok(cfg)
}

/// Checks redis-server makes once every line is read.
pub(crate) fn check_after_load(cfg: &Config) -> Result<(), ConfigError> {
    if cfg.cluster_enabled && cfg.replicaof.is_some() {
        return Err(ConfigError::Fatal(
            "replicaof directive not allowed in cluster mode".into(),
        ));
    }
    Ok(())
}

/// The log file must be writable (it is relative to `dir`). Checked without
/// creating it.
fn check_logfile(cfg: &Config) -> Result<(), ConfigError> {
    if cfg.logfile.is_empty() {
        return Ok(());
    }
    let path = cfg.dir.join(&cfg.logfile);
    let fail = |e: &io::Error| ConfigError::Fatal(format!("Can't open the log file: {}", strerror(e)));
    match std::fs::OpenOptions::new().append(true).open(&path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            match std::fs::metadata(parent) {
                Ok(m) if m.is_dir() => Ok(()),
                _ => Err(fail(&e)),
            }
        }
        Err(e) => Err(fail(&e)),
    }
}

/// Parses config text that is not from a file (tests, embedding).
pub(crate) fn from_text(text: &str) -> Result<Config, ConfigError> {
    let mut loader = Loader::new();
    loader.load_text(text.as_bytes(), &[(1, None)])?;
    check_after_load(&loader.cfg)?;
    Ok(loader.cfg)
}
