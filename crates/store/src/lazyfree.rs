//! Frees big values on a background thread so the engine never pauses to drop them
//! (UNLINK, FLUSHALL ASYNC, overwritten big values).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread;

type Garbage = Box<dyn Send>;

pub struct LazyFree {
    tx: Sender<Garbage>,
    pending: Arc<AtomicUsize>,
    freed: Arc<AtomicUsize>,
}

impl Default for LazyFree {
    fn default() -> Self {
        Self::new()
    }
}

impl LazyFree {
    pub fn new() -> Self {
        let (tx, rx) = channel::<Garbage>();
        let pending = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(AtomicUsize::new(0));
        let (p, f) = (pending.clone(), freed.clone());
        thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                while let Ok(item) = rx.recv() {
                    drop(item);
                    p.fetch_sub(1, Ordering::Relaxed);
                    f.fetch_add(1, Ordering::Relaxed);
                }
            })
            .expect("spawn lazyfree thread");
        LazyFree { tx, pending, freed }
    }

    /// Hands a value to the background thread.
    pub fn free<T: Send + 'static>(&self, item: T) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.tx.send(Box::new(item)) {
            // The thread is gone (only at shutdown): drop here.
            drop(e.0);
            self.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Objects waiting to be freed (INFO lazyfree_pending_objects).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Objects freed so far (INFO lazyfreed_objects).
    pub fn freed(&self) -> usize {
        self.freed.load(Ordering::Relaxed)
    }
}
