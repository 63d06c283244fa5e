//! Payloads captured from Redis 7.0.15's DUMP, decoded and re-encoded.

use super::*;
use shoal_store::zset::ZSetLimits;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// (key, DUMP output) from `RPUSH l a 1 -5 300`, `HSET h f1 v1 n 12`,
/// `ZADD z 1 a 2.5 b -3 c`, `SADD si 1 2 70000`, `SET s1 12345`,
/// `SET s3 hello`, `SET s4 9999999999999`.
const SAME_BYTES: &[(&str, &str)] = &[
    ("l", "120102121200000004008161020101dffb02c12c02ff0a00d8c6918441c94000"),
    ("h", "10141400000004008266310382763103816e020c01ff0a00cf3e8c3993437336"),
    (
        "z",
        "111a1a0000000600816302dffd02816102010181620283322e3504ff0a00a68a1ab1a9f2dcc2",
    ),
    ("si", "0b1404000000030000000100000002000000701101000a0085d5c1065b1dd055"),
    ("s1", "00c139300a009d94ea2793fc08b9"),
    ("s3", "000568656c6c6f0a006372df766534200a"),
    ("s4", "000d393939393939393939393939390a006d9e3c261b31ccd4"),
];

#[test]
fn redis_payloads_round_trip_byte_for_byte() {
    let opts = Options::default();
    for (k, h) in SAME_BYTES {
        let p = hex(h);
        let v = restore(&p, &opts).unwrap_or_else(|e| panic!("{k}: {e:?}"));
        assert_eq!(dump(&v, &opts), p, "{k}");
    }
}

#[test]
fn decoded_contents() {
    let opts = Options::default();
    let v = restore(&hex(SAME_BYTES[0].1), &opts).unwrap();
    let Value::List(l) = v else { panic!() };
    let items: Vec<&[u8]> = l.iter().collect();
    assert_eq!(items, [&b"a"[..], b"1", b"-5", b"300"]);
    let Value::ZSet(z) = restore(&hex(SAME_BYTES[2].1), &opts).unwrap() else {
        panic!()
    };
    let e: Vec<(&[u8], f64)> = z.iter().collect();
    assert_eq!(e, [(&b"c"[..], -3.0), (b"a", 1.0), (b"b", 2.5)]);
    assert_eq!(restore(&hex(SAME_BYTES[4].1), &opts).unwrap(), Value::Int(12345));
    let Value::Set(s) = restore(&hex("0202017801790a00ac3a8d681184aa31"), &opts).unwrap() else {
        panic!()
    };
    assert!(s.contains(b"x") && s.contains(b"y") && s.len() == 2);
}

#[test]
fn lzf_string_from_redis() {
    // SET s2 <100 x 'a'>: LZF compressed. Our compressor finds a different
    // (also valid) encoding, so only the contents are compared.
    let p = hex("00c3094064016161e057000161610a00e8a3b507b06df271");
    let opts = Options::default();
    let v = restore(&p, &opts).unwrap();
    assert_eq!(&*v.str_bytes().unwrap(), &[b'a'; 100][..]);
    let again = dump(&v, &opts);
    assert_eq!(again[1], 0xC3);
    assert_eq!(restore(&again, &opts).unwrap(), v);
}

#[test]
fn plain_encodings_from_redis() {
    // ZADD zs 1.5 m 2 n and HSET hh f v, created with the listpack limits at 0.
    let zs = hex("0502016e0000000000000040016d000000000000f83f0a00d3cd2ffdf42dc07d");
    let hh = hex("0401016601760a00adf24356b1860efc");
    let mut opts = Options::default();
    // Under default limits they load compact, like Redis.
    let Value::ZSet(z) = restore(&zs, &opts).unwrap() else {
        panic!()
    };
    assert_eq!(z.encoding_name(), "listpack");
    assert_eq!(z.score(b"m"), Some(1.5));
    let Value::Hash(h) = restore(&hh, &opts).unwrap() else {
        panic!()
    };
    assert_eq!(h.get(b"f"), Some(&b"v"[..]));
    // With limits 0 they stay plain and re-encode to the same bytes.
    opts.zset = ZSetLimits {
        max_listpack: 0,
        max_value: 64,
    };
    opts.hash.max_entries = 0;
    assert_eq!(dump(&restore(&zs, &opts).unwrap(), &opts), zs);
    assert_eq!(dump(&restore(&hh, &opts).unwrap(), &opts), hh);
}

#[test]
fn bad_payloads() {
    let opts = Options::default();
    let mut p = hex(SAME_BYTES[0].1);
    let n = p.len();
    p[n - 1] ^= 1;
    assert_eq!(restore(&p, &opts), Err(RestoreError::Footer));
    assert_eq!(restore(b"short", &opts), Err(RestoreError::Footer));
    // Version 11 is from the future.
    let mut v = vec![0u8, 1, b'x', 11, 0];
    let crc = crc64(0, &v);
    v.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&v, &opts), Err(RestoreError::Footer));
    // Right footer, garbage object.
    let mut g = vec![0x12u8, 1, 2, 3, 0xAA, 0, 10, 0];
    let crc = crc64(0, &g);
    g.extend_from_slice(&crc.to_le_bytes());
    assert!(matches!(restore(&g, &opts), Err(RestoreError::Data(_))));
}

/// XADD st 1-1 f v n 1; XADD st 1-2 f w n 2; XADD st 2-0 other x;
/// XADD st 3-0 f y n -70000; XDEL st 1-2; XGROUP CREATE st g1 0;
/// XGROUP CREATE st g2 $; XREADGROUP g1 alice COUNT 2; XREADGROUP g1 bob COUNT 1;
/// XGROUP CREATECONSUMER st g1 carol.
const STREAM: &str = "130110000000000000000100000000000000014055550000001f00030101010201816602816e020001020100010001817602010105010301000101018177020201050100010101dfff020101856f7468657206817802060102010201dfff02817902f290eefe040501ff03030001010102040202673103000403000000000000000100000000000000013363d200a201000001000000000000000200000000000000003363d200a201000001000000000000000300000000000000003463d200a2010000010305616c6963653363d200a201000002000000000000000100000000000000010000000000000002000000000000000003626f623463d200a20100000100000000000000030000000000000000056361726f6c3463d200a201000000026732030081ffffffffffffffff00000a0005676ce30c39f22f";

#[test]
fn stream_from_redis() {
    use shoal_store::stream::StreamId;
    let opts = Options::default();
    let p = hex(STREAM);
    let Value::Stream(s) = restore(&p, &opts).unwrap() else {
        panic!()
    };
    let ids: Vec<StreamId> = s
        .log
        .range(StreamId::MIN, StreamId::MAX, 0, false)
        .iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(ids, [StreamId::new(1, 1), StreamId::new(2, 0), StreamId::new(3, 0)]);
    let e = s.log.range(StreamId::new(3, 0), StreamId::new(3, 0), 0, false);
    assert_eq!(e[0].1, [&b"f"[..], b"y", b"n", b"-70000"]);
    assert_eq!(s.log.last_id, StreamId::new(3, 0));
    assert_eq!(s.log.max_deleted_id, StreamId::new(1, 2));
    assert_eq!(s.log.entries_added, 4);
    let g1 = &s.groups[&b"g1"[..]];
    assert_eq!(g1.last_id, StreamId::new(3, 0));
    assert_eq!(g1.entries_read, 4);
    assert_eq!(g1.pel.len(), 3);
    assert_eq!(g1.pel[&StreamId::new(3, 0)].consumer, b"bob");
    assert_eq!(g1.consumers.len(), 3);
    assert!(g1.consumers[&b"carol"[..]].pel.is_empty());
    assert_eq!(s.groups[&b"g2"[..]].pel.len(), 0);
    // Our encoding decodes to the same stream.
    let again = dump(&Value::Stream(s.clone()), &opts);
    assert_eq!(restore(&again, &opts).unwrap(), Value::Stream(s));
}
