//! How many Watch streams are open, per service and per caller, and the
//! slot each open stream holds until it ends.
//!
//! A caller is the peer's IP address: the service has no authentication
//! yet, so the address is the only identity a request carries. Once callers
//! present an API key, the key should take its place (callers behind one
//! NAT or proxy currently share one allowance).

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex, PoisonError},
};

use crate::error::{Error, Result};

/// The caps on open Watch streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchLimits {
    /// Streams open at once on the whole service.
    pub max_watchers: NonZeroUsize,
    /// Streams open at once from one caller.
    pub max_watchers_per_caller: NonZeroUsize,
}

/// Which cap a Watch request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchLimit {
    /// The whole service's.
    Service(NonZeroUsize),
    /// One caller's.
    PerCaller(NonZeroUsize),
}

/// The open Watch streams, counted.
#[derive(Debug)]
pub struct Watchers {
    limits: WatchLimits,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    /// Open streams per caller (its key id, or its address where anonymous calls are allowed); a caller with
    /// none has no entry.
    by_caller: HashMap<String, usize>,
}

impl Watchers {
    /// No stream open yet.
    #[must_use]
    pub fn new(limits: WatchLimits) -> Self {
        Self {
            limits,
            open: Mutex::new(Open::default()),
        }
    }

    /// A slot for one more stream from `caller`, or the cap it would exceed.
    ///
    /// # Errors
    /// [`Error::TooManyWatchers`] when the service or the caller is at its cap.
    pub fn admit(self: &Arc<Self>, caller: String) -> Result<WatchSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.limits.max_watchers.get() {
            return Err(Error::TooManyWatchers(WatchLimit::Service(self.limits.max_watchers)));
        }
        let mine = open.by_caller.entry(caller.clone()).or_default();
        if *mine >= self.limits.max_watchers_per_caller.get() {
            return Err(Error::TooManyWatchers(WatchLimit::PerCaller(
                self.limits.max_watchers_per_caller,
            )));
        }
        *mine += 1;
        open.total += 1;
        Ok(WatchSlot {
            watchers: Arc::clone(self),
            caller,
        })
    }

    /// Streams open now (for logs and tests).
    #[must_use]
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).total
    }
}

/// One open stream's place under the caps, given back when dropped: the
/// task feeding the stream holds it, so it is released however the stream
/// ends (the client gone, the service stopping, a failed request).
#[derive(Debug)]
pub struct WatchSlot {
    watchers: Arc<Watchers>,
    caller: String,
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut open = self.watchers.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(mine) = open.by_caller.get_mut(&self.caller) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                open.by_caller.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(service: usize, per_caller: usize) -> WatchLimits {
        WatchLimits {
            max_watchers: NonZeroUsize::new(service).unwrap(),
            max_watchers_per_caller: NonZeroUsize::new(per_caller).unwrap(),
        }
    }

    fn exceeded(result: Result<WatchSlot>) -> WatchLimit {
        match result {
            Err(Error::TooManyWatchers(limit)) => limit,
            other => panic!("expected a cap, got {other:?}"),
        }
    }

    #[test]
    fn each_caller_has_its_own_allowance_under_the_services() {
        let watchers = Arc::new(Watchers::new(limits(3, 2)));
        let (a, b) = ("key a".to_owned(), "key b".to_owned());
        let first = watchers.admit(a.clone()).unwrap();
        let _second = watchers.admit(a.clone()).unwrap();
        assert!(matches!(exceeded(watchers.admit(a.clone())), WatchLimit::PerCaller(n) if n.get() == 2));
        let _third = watchers.admit(b.clone()).unwrap();
        assert!(matches!(exceeded(watchers.admit(b.clone())), WatchLimit::Service(n) if n.get() == 3));
        drop(first);
        assert_eq!(watchers.open(), 2);
        let _again = watchers.admit(a.clone()).unwrap();
        assert_eq!(watchers.open(), 3);
    }

    #[test]
    fn dropped_slots_leave_no_entries() {
        let watchers = Arc::new(Watchers::new(limits(10, 10)));
        let slots: Vec<_> = (0..5).map(|_| watchers.admit("key c".to_owned()).unwrap()).collect();
        drop(slots);
        assert_eq!(watchers.open(), 0);
        assert!(watchers.open.lock().unwrap().by_caller.is_empty());
    }
}
