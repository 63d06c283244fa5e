//! A cheap monotonic clock for timing every command (SLOWLOG, commandstats,
//! LATENCY). On x86-64 with an invariant TSC it reads the time stamp counter,
//! calibrated once at start-up, like Redis's own monotonic clock; elsewhere it
//! falls back to `Instant`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Calibration {
    /// TSC ticks per microsecond, or 0 when the TSC is not usable.
    ticks_per_us: f64,
    origin: Instant,
}

static CALIBRATION: OnceLock<Calibration> = OnceLock::new();

fn tsc_usable() -> bool {
    cfg!(target_arch = "x86_64")
        && std::fs::read_to_string("/proc/cpuinfo")
            .map(|s| s.contains(" constant_tsc") && s.contains(" nonstop_tsc"))
            .unwrap_or(false)
}

#[inline]
fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

fn calibration() -> &'static Calibration {
    CALIBRATION.get_or_init(|| {
        let origin = Instant::now();
        if !tsc_usable() {
            return Calibration {
                ticks_per_us: 0.0,
                origin,
            };
        }
        let t0 = rdtsc();
        let i0 = Instant::now();
        std::thread::sleep(Duration::from_millis(10));
        let ticks = rdtsc().wrapping_sub(t0) as f64;
        let us = i0.elapsed().as_secs_f64() * 1e6;
        Calibration {
            ticks_per_us: if us > 0.0 && ticks > 0.0 { ticks / us } else { 0.0 },
            origin,
        }
    })
}

/// Calibrates now rather than on the first command.
pub fn init() {
    calibration();
}

/// An opaque monotonic timestamp.
#[derive(Clone, Copy)]
pub struct Stamp(u64);

#[inline]
pub fn now() -> Stamp {
    let c = calibration();
    if c.ticks_per_us > 0.0 {
        Stamp(rdtsc())
    } else {
        Stamp(c.origin.elapsed().as_micros() as u64)
    }
}

/// Microseconds elapsed since `start`.
#[inline]
pub fn micros_since(start: Stamp) -> u64 {
    let c = calibration();
    if c.ticks_per_us > 0.0 {
        (rdtsc().wrapping_sub(start.0) as f64 / c.ticks_per_us) as u64
    } else {
        (c.origin.elapsed().as_micros() as u64).saturating_sub(start.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn measures_a_sleep() {
        super::init();
        let s = super::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let us = super::micros_since(s);
        assert!((19_000..200_000).contains(&us), "{us}");
    }
}
