//! Scratch state (buffers, codec contexts) shared by the jobs of one
//! parallel loop, so each thread warms its buffers once.
//!
//! Rayon's `map_init` makes a new value for every split of the work, not
//! once per thread. A fresh buffer of tens of MB costs a page fault and a
//! zeroed page per 4 KiB (on a virtual machine that hands freed memory back
//! to the host, a hypervisor fault too): packing the 294-crate bench target
//! took 134k page faults with `map_init`, 81k with a pool.

use std::sync::Mutex;

pub struct Pool<T, F> {
    free: Mutex<Vec<T>>,
    make: F,
}

impl<T, F: Fn() -> T> Pool<T, F> {
    pub fn new(make: F) -> Self {
        Pool {
            free: Mutex::new(Vec::new()),
            make,
        }
    }

    /// Runs `work` with a value no other job is using, kept for the next job.
    pub fn with<R>(&self, work: impl FnOnce(&mut T) -> R) -> R {
        let taken = self.free.lock().map(|mut free| free.pop());
        let mut value = taken.ok().flatten().unwrap_or_else(&self.make);
        let result = work(&mut value);
        // A poisoned lock only means another job panicked; that panic is the news.
        if let Ok(mut free) = self.free.lock() {
            free.push(value);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::Pool;
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn makes_no_more_values_than_jobs_run_at_once() {
        let made = AtomicUsize::new(0);
        let pool = Pool::new(|| {
            made.fetch_add(1, Ordering::Relaxed);
            Vec::<u8>::new()
        });
        (0..1000).into_par_iter().for_each(|i| {
            pool.with(|buf| buf.push(i as u8));
        });
        let made = made.load(Ordering::Relaxed);
        assert!(
            made >= 1 && made <= rayon::current_num_threads(),
            "{made} values made"
        );
    }
}
