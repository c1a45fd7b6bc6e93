//! Mutexes that outlive a panic. Every mutex of the host guards state that
//! each of its critical sections leaves consistent (a map gains or loses
//! whole entries, a value is replaced whole), so a panic while one is held
//! leaves nothing half-done behind it: the guard is taken back rather than
//! the poison passed on to every later caller.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// [`Mutex::lock`], recovering the guard of a poisoned mutex.
pub trait Locked<T> {
    /// The guard, whether or not a holder panicked.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_mutex_still_gives_its_value() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let held = mutex.clone();
        let _ = std::thread::spawn(move || {
            let _guard = held.lock().unwrap();
            panic!("poisoning it");
        })
        .join();
        assert!(mutex.is_poisoned());
        assert_eq!(*mutex.locked(), 1);
    }
}
