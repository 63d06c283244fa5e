//! Whole RDB files.
//!
//! `REDIS0010`, AUX fields (`0xFA key value`), then per database `0xFE db`
//! (SELECTDB) and `0xFB keys expires` (RESIZEDB), then the keys, each optionally
//! preceded by `0xFC ms` (expiry, u64 LE Unix ms; `0xFD` is the old u32
//! seconds form), `0xF8 idle-seconds` (LRU) or `0xF9 counter` (LFU), then the
//! object type, the key string and the object. `0xFF` ends the file, followed by
//! the CRC64 of every byte before it (u64 LE; 0 means "not computed").

use crate::object::{decode_value, encode_value, type_byte, write_len, write_string, Reader, EMPTY_KEY};
use crate::{bad, Error, Options, RDB_VERSION};
use shoal_store::{Db, Value};
use shoal_util::crc64::crc64;
use std::io::{self, Write};

pub const OP_FUNCTION2: u8 = 0xF5;
pub const OP_FUNCTION_PRE_GA: u8 = 0xF6;
pub const OP_MODULE_AUX: u8 = 0xF7;
pub const OP_IDLE: u8 = 0xF8;
pub const OP_FREQ: u8 = 0xF9;
pub const OP_AUX: u8 = 0xFA;
pub const OP_RESIZEDB: u8 = 0xFB;
pub const OP_EXPIRETIME_MS: u8 = 0xFC;
pub const OP_EXPIRETIME: u8 = 0xFD;
pub const OP_SELECTDB: u8 = 0xFE;
pub const OP_EOF: u8 = 0xFF;

/// A writer that keeps the running CRC64 of what went through it.
struct CrcWriter<W: Write> {
    inner: W,
    crc: u64,
    checksum: bool,
}

impl<W: Write> CrcWriter<W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, b);
        }
        self.inner.write_all(b)
    }
}

/// What to put in the file besides the keys.
pub struct SaveMeta<'a> {
    /// AUX fields, in order (`redis-ver`, `redis-bits`, `ctime`, `used-mem`...).
    pub aux: &'a [(&'a str, Vec<u8>)],
    /// `rdbchecksum`: when false the trailer is 8 zero bytes.
    pub checksum: bool,
    /// Which access-time opcode precedes each key.
    pub access: Access,
}

/// The per-key access information written, following `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    /// LRU policies: `0xF8 idle-seconds`, from the server's LRU clock and each
    /// entry's stamp.
    Lru(u32),
    /// LFU policies: `0xF9 counter`, each entry's counter after decay to
    /// `minutes` (the LFU minute clock) with `lfu-decay-time` `decay`.
    Lfu {
        minutes: u32,
        decay: u32,
    },
}

/// Writes a whole RDB file; returns the number of keys written.
pub fn write_rdb<W: Write>(w: W, dbs: &[Db], meta: &SaveMeta, opts: &Options) -> io::Result<u64> {
    write_rdb_with_functions(w, dbs, &[], meta, opts)
}

/// [`write_rdb`] with function libraries (their code) after the header.
pub fn write_rdb_with_functions<W: Write>(
    w: W,
    dbs: &[Db],
    functions: &[Vec<u8>],
    meta: &SaveMeta,
    opts: &Options,
) -> io::Result<u64> {
    let mut w = CrcWriter {
        inner: w,
        crc: 0,
        checksum: meta.checksum,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    write_header(&mut buf, meta.aux);
    write_functions(&mut buf, functions, opts.compress);
    let mut keys = 0u64;
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        write_select_db(&mut buf, i);
        buf.push(OP_RESIZEDB);
        write_len(&mut buf, db.len() as u64);
        write_len(&mut buf, db.volatile_len() as u64);
        for e in db.iter() {
            write_entry(&mut buf, e, meta.access, opts);
            keys += 1;
            if buf.len() >= 1 << 16 {
                w.put(&buf)?;
                buf.clear();
            }
        }
    }
    buf.push(OP_EOF);
    w.put(&buf)?;
    let crc = if meta.checksum { w.crc } else { 0 };
    w.inner.write_all(&crc.to_le_bytes())?;
    w.inner.flush()?;
    Ok(keys)
}

/// The file header: magic, version and AUX fields.
pub fn write_header(buf: &mut Vec<u8>, aux: &[(&str, Vec<u8>)]) {
    buf.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    for (k, v) in aux {
        buf.push(OP_AUX);
        write_string(buf, k.as_bytes(), false);
        write_string(buf, v, false);
    }
}

/// Function libraries, each as `RDB_OPCODE_FUNCTION2` and its code (Redis
/// writes them after the AUX fields, before the databases).
pub fn write_functions(buf: &mut Vec<u8>, codes: &[Vec<u8>], compress: bool) {
    for code in codes {
        buf.push(OP_FUNCTION2);
        write_string(buf, code, compress);
    }
}

/// Switches the database the following entries belong to.
pub fn write_select_db(buf: &mut Vec<u8>, db: usize) {
    buf.push(OP_SELECTDB);
    write_len(buf, db as u64);
}

/// One key: expiry, access information, type, key and value.
pub fn write_entry(buf: &mut Vec<u8>, e: &shoal_store::Entry, access: Access, opts: &Options) {
    if e.has_expire() {
        buf.push(OP_EXPIRETIME_MS);
        buf.extend_from_slice(&e.expire_at().to_le_bytes());
    }
    match access {
        Access::None => {}
        Access::Lru(clock) => {
            buf.push(OP_IDLE);
            write_len(buf, clock.saturating_sub(e.lru) as u64);
        }
        Access::Lfu { minutes, decay } => {
            buf.push(OP_FREQ);
            buf.push(shoal_util::lfu::decayed(e.lru, minutes, decay) as u8);
        }
    }
    buf.push(type_byte(&e.value));
    write_string(buf, e.key(), opts.compress);
    encode_value(buf, &e.value, opts);
}

/// One key read from a file.
#[derive(Debug)]
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Absolute Unix ms, if the key had a TTL.
    pub expire_ms: Option<i64>,
    /// Idle seconds (LRU opcode), if present.
    pub idle: Option<u64>,
    /// LFU counter, if present.
    pub freq: Option<u8>,
    /// Bytes of the image read so far (progress of a long load).
    pub offset: usize,
}

/// What a load found besides keys.
#[derive(Debug, Default)]
pub struct LoadInfo {
    pub version: u32,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    pub keys: u64,
    /// Keys whose value was empty (Redis skips them with a warning too).
    pub empty_keys_skipped: u64,
    /// Function libraries (FUNCTION LOAD code) present in the file, not loaded.
    pub functions_skipped: u64,
    /// The code of each function library in the file (`RDB_OPCODE_FUNCTION2`).
    pub functions: Vec<Vec<u8>>,
    /// Bytes the RDB took, up to and including the checksum (an AOF base may
    /// continue with commands after them).
    pub consumed: usize,
}

/// Bytes parsed between two steps of the running checksum.
const CRC_CHUNK: usize = 256 << 10;

/// Parses a whole RDB file, handing every key to `on_key`.
pub fn load(
    buf: &[u8],
    opts: &Options,
    verify_checksum: bool,
    mut on_key: impl FnMut(LoadedKey) -> Result<(), Error>,
) -> Result<LoadInfo, Error> {
    if buf.len() < 9 || &buf[..5] != b"REDIS" {
        return bad("Wrong signature trying to load DB from file");
    }
    let version: u32 = std::str::from_utf8(&buf[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error("Wrong signature trying to load DB from file".into()))?;
    // Redis 7.2 writes version 11 (its only new object is the listpack set).
    if !(1..=11).contains(&version) {
        return bad(format!("Can't handle RDB format version {version}"));
    }
    let mut info = LoadInfo {
        version,
        ..Default::default()
    };
    let mut r = Reader::new(buf);
    r.pos = 9;
    // The checksum is computed as the parse goes, a chunk at a time over
    // bytes just parsed (still in cache), so that a big file is not walked a
    // second time at the end while the keys are already in.
    let checksum = verify_checksum && version >= 5;
    let mut crc = 0u64;
    let mut crc_pos = 0usize;
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    loop {
        let op = r.u8()?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => {
                db = r.length()? as usize;
                continue;
            }
            OP_RESIZEDB => {
                r.length()?;
                r.length()?;
                continue;
            }
            OP_EXPIRETIME_MS => {
                expire = Some(r.u64_le()? as i64);
                continue;
            }
            OP_EXPIRETIME => {
                expire = Some(r.u32_le()? as i64 * 1000);
                continue;
            }
            OP_IDLE => {
                idle = Some(r.length()?);
                continue;
            }
            OP_FREQ => {
                freq = Some(r.u8()?);
                continue;
            }
            OP_AUX => {
                let k = r.string()?;
                let v = r.string()?;
                info.aux.push((k, v));
                continue;
            }
            OP_FUNCTION2 => {
                info.functions.push(r.string()?);
                continue;
            }
            OP_MODULE_AUX => return bad("The RDB file contains AUX module data, and modules are not supported"),
            OP_FUNCTION_PRE_GA => return bad("Pre-release function format not supported"),
            _ => {}
        }
        let key = r.string()?;
        let value = match decode_value(&mut r, op, opts) {
            Ok(v) => v,
            Err(e) if e.0 == EMPTY_KEY => {
                info.empty_keys_skipped += 1;
                expire = None;
                idle = None;
                freq = None;
                continue;
            }
            Err(e) => return Err(e),
        };
        on_key(LoadedKey {
            db,
            key,
            value,
            expire_ms: expire.take(),
            idle: idle.take(),
            freq: freq.take(),
            offset: r.pos,
        })?;
        info.keys += 1;
        if checksum && r.pos - crc_pos >= CRC_CHUNK {
            crc = crc64(crc, &buf[crc_pos..r.pos]);
            crc_pos = r.pos;
        }
    }
    if version >= 5 {
        let end = r.pos;
        let stored = r.u64_le()?;
        if checksum && stored != 0 && crc64(crc, &buf[crc_pos..end]) != stored {
            return bad("Wrong RDB checksum. Aborting now.");
        }
    }
    info.consumed = r.pos;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_version_11_listpack_sets() {
        // Redis 7.2: RDB 11 with a set stored as one listpack ("x", "yy").
        let lp: Vec<u8> = vec![14, 0, 0, 0, 2, 0, 0x81, b'x', 2, 0x82, b'y', b'y', 3, 0xFF];
        let mut file = b"REDIS0011".to_vec();
        file.extend_from_slice(&[OP_SELECTDB, 0, 20, 1, b's', lp.len() as u8]);
        file.extend_from_slice(&lp);
        file.push(OP_EOF);
        file.extend_from_slice(&[0; 8]);
        let mut got = Vec::new();
        load(&file, &Options::default(), true, |k| {
            got.push(k);
            Ok(())
        })
        .unwrap();
        let Value::Set(set) = &got[0].value else {
            panic!("not a set");
        };
        assert_eq!(set.len(), 2);
        assert!(load(b"REDIS0012\xff", &Options::default(), true, |_| Ok(())).is_err());
    }

    #[test]
    fn write_and_load() {
        let mut dbs = vec![Db::new(), Db::new(), Db::new()];
        dbs[0].insert_entry(b"a", Value::Int(5), shoal_store::NO_EXPIRE);
        dbs[2].insert_entry(b"b", Value::from_bytes(b"hello"), 1_900_000_000_000);
        let aux = [("redis-ver", b"7.0.15".to_vec()), ("ctime", b"1700000000".to_vec())];
        let meta = SaveMeta {
            aux: &aux,
            checksum: true,
            access: Access::None,
        };
        let mut out = Vec::new();
        assert_eq!(write_rdb(&mut out, &dbs, &meta, &Options::default()).unwrap(), 2);
        let mut got = Vec::new();
        let info = load(&out, &Options::default(), true, |k| {
            got.push(k);
            Ok(())
        })
        .unwrap();
        assert_eq!(info.keys, 2);
        assert_eq!(info.aux[0], (b"redis-ver".to_vec(), b"7.0.15".to_vec()));
        assert_eq!(
            (got[0].db, &got[0].key[..], &got[0].value),
            (0, &b"a"[..], &Value::Int(5))
        );
        assert_eq!(got[1].db, 2);
        assert_eq!(got[1].expire_ms, Some(1_900_000_000_000));
        // A flipped bit is caught by the checksum.
        let mut bad_file = out.clone();
        bad_file[12] ^= 1;
        assert!(load(&bad_file, &Options::default(), true, |_| Ok(())).is_err());
    }
}
