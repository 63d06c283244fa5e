//! Redis's LFU access word: the last-decrement time in minutes (16 bits,
//! wrapping) above an 8-bit logarithmic counter. Shared by eviction, OBJECT
//! FREQ and RDB saves (which store the decayed counter, as Redis does).

/// The 16-bit minute clock of the LFU word.
pub fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// The counter of `stamp` after one decrement per `decay_minutes` elapsed
/// since its minute field (`lfu-decay-time`; 0 never decays).
pub fn decayed(stamp: u32, now_minutes: u32, decay_minutes: u32) -> u32 {
    let counter = stamp & 0xff;
    if decay_minutes == 0 {
        return counter;
    }
    let last = stamp >> 8;
    let elapsed = if now_minutes >= last {
        now_minutes - last
    } else {
        65535 - last + now_minutes
    };
    counter.saturating_sub(elapsed / decay_minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_one_per_period_and_wraps() {
        let stamp = (100 << 8) | 20;
        assert_eq!(decayed(stamp, 100, 1), 20);
        assert_eq!(decayed(stamp, 105, 1), 15);
        assert_eq!(decayed(stamp, 105, 2), 18);
        assert_eq!(decayed(stamp, 500, 1), 0);
        assert_eq!(decayed(stamp, 500, 0), 20);
        // The minute clock wrapped: 65535 - 65530 + 3 = 8 minutes.
        assert_eq!(decayed((65530 << 8) | 20, 3, 1), 12);
    }
}
