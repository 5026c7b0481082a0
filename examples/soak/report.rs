//! Invariant violations, collected from every part of the soak as they happen.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Shared list of violations, each with the second of the run it was found in.
#[derive(Clone)]
pub(crate) struct Violations {
    start: Instant,
    list: Arc<Mutex<Vec<String>>>,
}

impl Violations {
    /// An empty list; times count from now.
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            list: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Records one (and prints it at once, so a long run shows trouble early).
    pub(crate) fn add(&self, what: String) {
        let line = format!("[{:7.1} s] {what}", self.start.elapsed().as_secs_f64());
        eprintln!("soak: VIOLATION {line}");
        if let Ok(mut list) = self.list.lock() {
            list.push(line);
        }
    }

    /// Everything recorded.
    pub(crate) fn all(&self) -> Vec<String> {
        self.list.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Seconds since the start.
    pub(crate) fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
