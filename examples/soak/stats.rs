//! Percentiles for the summary.

use std::time::Duration;

/// p50, p95 and max of `samples` (nearest rank); `None` when there are none.
pub(crate) fn percentiles(samples: &[Duration]) -> Option<(Duration, Duration, Duration)> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = |p: f64| {
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    Some((rank(0.50), rank(0.95), sorted[sorted.len() - 1]))
}

/// `p50 / p95 / max` in seconds, or `-` without samples.
pub(crate) fn show(samples: &[Duration]) -> String {
    match percentiles(samples) {
        Some((p50, p95, max)) => format!(
            "p50 {:.2} s, p95 {:.2} s, max {:.2} s (n={})",
            p50.as_secs_f64(),
            p95.as_secs_f64(),
            max.as_secs_f64(),
            samples.len()
        ),
        None => "- (n=0)".to_owned(),
    }
}
