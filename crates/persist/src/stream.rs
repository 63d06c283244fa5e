//! Streams in RDB: `STREAM_LISTPACKS_2` (what Redis 7.0 writes) and the older
//! `STREAM_LISTPACKS` (read only).
//!
//! Layout: the number of nodes, then per node its master ID (16 bytes, ms and
//! seq big endian) and a listpack; then the length, the last ID, (v2) the first
//! ID, the max deleted ID and the entries-added counter; then the consumer
//! groups: name, last delivered ID, (v2) entries-read, the pending entries
//! (raw 16-byte ID, delivery time as u64 LE ms, delivery count), and the
//! consumers (name, seen time as u64 LE ms, their pending IDs).
//!
//! A node's listpack starts with a master entry: `live count, deleted count,
//! field count, field names..., 0`. Each entry is `flags, ms delta, seq delta`
//! (relative to the master ID), then either the values only (flag 2: same field
//! names as the master) or `field count, field, value...`, then the number of
//! listpack elements the entry used (its "lp-count"). Flag 1 marks a deleted
//! entry.

use crate::listpack::{self, Item, LpWriter};
use crate::object::{write_len, write_string, Reader, T_STREAM_LISTPACKS_2};
use crate::{bad, Error, Options};
use shoal_store::stream::{Consumer, Group, Nack, StreamId, StreamValue, ENTRIES_READ_INVALID};
use shoal_store::Value;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn id_bytes(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn id_from(b: &[u8]) -> Result<StreamId, Error> {
    if b.len() != 16 {
        return bad("Stream node key entry is not the size of a stream ID");
    }
    Ok(StreamId::new(
        u64::from_be_bytes(b[..8].try_into().unwrap()),
        u64::from_be_bytes(b[8..].try_into().unwrap()),
    ))
}

/// One node's entries before they are written.
struct NodeBuf<'a> {
    master: StreamId,
    master_fields: Vec<&'a [u8]>,
    entries: Vec<&'a (StreamId, Vec<&'a [u8]>)>,
    bytes: usize,
}

fn write_node(out: &mut Vec<u8>, n: &NodeBuf, compress: bool) {
    let mut w = LpWriter::new();
    w.push_int(n.entries.len() as i64);
    w.push_int(0);
    w.push_int(n.master_fields.len() as i64);
    for f in &n.master_fields {
        w.push(f);
    }
    w.push_int(0);
    for (id, kv) in n.entries.iter().map(|e| (&e.0, &e.1)) {
        let nf = kv.len() / 2;
        let same = nf == n.master_fields.len() && kv.chunks(2).zip(&n.master_fields).all(|(p, f)| p[0] == *f);
        w.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        w.push_int(id.ms.wrapping_sub(n.master.ms) as i64);
        w.push_int(id.seq.wrapping_sub(n.master.seq) as i64);
        if same {
            for p in kv.chunks(2) {
                w.push(p[1]);
            }
            w.push_int(nf as i64 + 3);
        } else {
            w.push_int(nf as i64);
            for x in kv {
                w.push(x);
            }
            w.push_int(2 * nf as i64 + 4);
        }
    }
    out.extend_from_slice(&id_bytes(n.master));
    // The master key is a plain 16-byte string, never compressed or int-encoded.
    let lp = w.finish();
    write_string(out, &lp, compress);
}

/// Writes a stream as `STREAM_LISTPACKS_2` (without the type byte).
pub fn encode_stream(out: &mut Vec<u8>, s: &StreamValue, opts: &Options) {
    let entries = s.log.range(StreamId::MIN, StreamId::MAX, 0, false);
    let max_entries = if opts.stream.max_entries == 0 {
        usize::MAX
    } else {
        opts.stream.max_entries
    };
    let max_bytes = if opts.stream.max_bytes == 0 {
        usize::MAX
    } else {
        opts.stream.max_bytes
    };
    let mut nodes: Vec<NodeBuf> = Vec::new();
    for e in &entries {
        let size: usize = e.1.iter().map(|x| listpack::entry_size(x)).sum::<usize>() + 8;
        let start_new = match nodes.last() {
            None => true,
            Some(n) => n.entries.len() >= max_entries || n.bytes + size > max_bytes,
        };
        if start_new {
            nodes.push(NodeBuf {
                master: e.0,
                master_fields: e.1.chunks(2).map(|p| p[0]).collect(),
                entries: Vec::new(),
                bytes: 16,
            });
        }
        let n = nodes.last_mut().unwrap();
        n.entries.push(e);
        n.bytes += size;
    }
    write_len(out, nodes.len() as u64);
    for n in &nodes {
        // 16-byte key first, as a length-prefixed string.
        let mut tmp = Vec::new();
        write_node(&mut tmp, n, opts.compress);
        write_len(out, 16);
        out.extend_from_slice(&tmp);
    }
    let log = &s.log;
    write_len(out, log.len());
    write_len(out, log.last_id.ms);
    write_len(out, log.last_id.seq);
    write_len(out, log.first_id.ms);
    write_len(out, log.first_id.seq);
    write_len(out, log.max_deleted_id.ms);
    write_len(out, log.max_deleted_id.seq);
    write_len(out, log.entries_added);
    write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        write_string(out, name, opts.compress);
        write_len(out, g.last_id.ms);
        write_len(out, g.last_id.seq);
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id_bytes(*id));
            out.extend_from_slice(&(nack.delivery_time as u64).to_le_bytes());
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            write_string(out, cname, opts.compress);
            out.extend_from_slice(&(c.seen_time as u64).to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id_bytes(*id));
            }
        }
    }
}

fn int(items: &[Item], i: usize) -> Result<i64, Error> {
    items
        .get(i)
        .and_then(|x| x.as_int())
        .ok_or_else(|| Error("Stream listpack integrity check failed.".into()))
}

fn read_id(r: &mut Reader) -> Result<StreamId, Error> {
    let ms = r.length()?;
    let seq = r.length()?;
    Ok(StreamId::new(ms, seq))
}

/// Reads a stream of type `t` (15 or 19).
pub fn decode_stream(r: &mut Reader, t: u8, opts: &Options) -> Result<Value, Error> {
    let v2 = t == T_STREAM_LISTPACKS_2;
    let mut s = StreamValue::default();
    let nodes = r.count()?;
    let mut flat: Vec<Vec<u8>> = Vec::new();
    for _ in 0..nodes {
        let master = id_from(&r.string()?)?;
        let blob = r.string()?;
        let items = listpack::parse(&blob)?;
        if items.is_empty() {
            return bad("Empty listpack inside stream");
        }
        let nf = int(&items, 2)? as usize;
        if 3 + nf >= items.len() {
            return bad("Stream listpack integrity check failed.");
        }
        let master_fields: Vec<Vec<u8>> = items[3..3 + nf].iter().map(|x| x.to_vec()).collect();
        if int(&items, 3 + nf)? != 0 {
            return bad("Stream listpack integrity check failed.");
        }
        let mut i = 4 + nf;
        while i < items.len() {
            let flags = int(&items, i)?;
            let ms = master.ms.wrapping_add(int(&items, i + 1)? as u64);
            let seq = master.seq.wrapping_add(int(&items, i + 2)? as u64);
            i += 3;
            flat.clear();
            if flags & FLAG_SAMEFIELDS != 0 {
                if i + nf > items.len() {
                    return bad("Stream listpack integrity check failed.");
                }
                for (k, f) in master_fields.iter().enumerate() {
                    flat.push(f.clone());
                    flat.push(items[i + k].to_vec());
                }
                i += nf;
            } else {
                let n = int(&items, i)?;
                if n < 0 || i + 1 + 2 * n as usize > items.len() {
                    return bad("Stream listpack integrity check failed.");
                }
                i += 1;
                for k in 0..2 * n as usize {
                    flat.push(items[i + k].to_vec());
                }
                i += 2 * n as usize;
            }
            int(&items, i)?; // lp-count
            i += 1;
            if flags & FLAG_DELETED == 0 {
                let id = StreamId::new(ms, seq);
                if !s.log.is_empty() && id <= s.log.last_id {
                    return bad("Stream entries out of order");
                }
                let refs: Vec<&[u8]> = flat.iter().map(|x| x.as_slice()).collect();
                s.log.append(id, &refs, opts.stream);
            }
        }
    }
    let _length = r.length()?;
    let last_id = read_id(r)?;
    if v2 {
        s.log.first_id = read_id(r)?;
        s.log.max_deleted_id = read_id(r)?;
        s.log.entries_added = r.length()?;
    } else {
        s.log.max_deleted_id = StreamId::MIN;
        s.log.entries_added = s.log.len();
    }
    s.log.last_id = last_id;
    let ngroups = r.count()?;
    for _ in 0..ngroups {
        let name = r.string()?;
        let glast = read_id(r)?;
        let entries_read = if v2 {
            r.length()? as i64
        } else {
            let est = s.log.estimate_offset(glast);
            if est < 0 {
                ENTRIES_READ_INVALID
            } else {
                est
            }
        };
        let mut g = Group::new(glast, entries_read);
        let npel = r.count()?;
        for _ in 0..npel {
            let id = id_from(r.take(16)?)?;
            let delivery_time = r.u64_le()? as i64;
            let delivery_count = r.length()?;
            g.pel.insert(
                id,
                Nack {
                    delivery_time,
                    delivery_count,
                    consumer: Vec::new(),
                },
            );
        }
        let nconsumers = r.count()?;
        for _ in 0..nconsumers {
            let cname = r.string()?;
            let seen_time = r.u64_le()? as i64;
            let mut c = Consumer {
                seen_time,
                ..Default::default()
            };
            let n = r.count()?;
            for _ in 0..n {
                let id = id_from(r.take(16)?)?;
                match g.pel.get_mut(&id) {
                    Some(nack) => nack.consumer = cname.clone(),
                    None => return bad("Consumer PEL entry not found in group global PEL"),
                }
                c.pel.insert(id);
            }
            if g.consumers.insert(cname, c).is_some() {
                return bad("Duplicated consumer name in stream group");
            }
        }
        // A pending entry nobody owns cannot be claimed through a consumer; drop it.
        g.pel.retain(|_, n| !n.consumer.is_empty());
        if s.groups.insert(name, g).is_some() {
            return bad("Duplicated consumer group name");
        }
    }
    Ok(Value::Stream(Box::new(s)))
}
