//! Slot storage with generation-checked keys: the one place where things in flight (jobs,
//! messages) get a slot and a name. A key is (slot, generation); freeing a slot bumps its
//! generation and a new occupant keeps the bumped value, so a key to a previous occupant — held by
//! a pending timer, a waiting line, a caller — never matches the new one.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU32;

/// A reference to one occupant of a [`Slab`]: its slot and the slot's generation when it was
/// stored. Generations start at 1, so an `Option<Key>` takes no more room than a key.
pub struct Key<T> {
    slot: u32,
    generation: NonZeroU32,
    of: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// The slot the occupant lives in (for tests; slots are reused).
    #[cfg(test)]
    pub fn slot(self) -> u32 {
        self.slot
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> PartialEq for Key<T> {
    fn eq(&self, other: &Self) -> bool {
        self.slot == other.slot && self.generation == other.generation
    }
}

impl<T> Eq for Key<T> {}

impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.slot, self.generation.get())
    }
}

/// Occupants in reusable slots, each named by a [`Key`] that goes stale when the occupant leaves.
pub struct Slab<T> {
    /// Per slot: its generation (never reset) and its occupant, if any.
    slots: Vec<(NonZeroU32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Store an occupant and return its key. A reused slot keeps the generation its last
    /// removal gave it, so no older key matches.
    #[inline]
    pub fn insert(&mut self, value: T) -> Key<T> {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.slots[slot as usize];
            entry.1 = Some(value);
            return Key {
                slot,
                generation: entry.0,
                of: PhantomData,
            };
        }
        self.slots.push((NonZeroU32::MIN, Some(value)));
        Key {
            slot: (self.slots.len() - 1) as u32,
            generation: NonZeroU32::MIN,
            of: PhantomData,
        }
    }

    /// The occupant behind `key`, unless it has left since.
    pub fn get(&self, key: Key<T>) -> Option<&T> {
        match self.slots.get(key.slot as usize) {
            Some((generation, Some(value))) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// The occupant behind `key`, mutably, unless it has left since.
    pub fn get_mut(&mut self, key: Key<T>) -> Option<&mut T> {
        match self.slots.get_mut(key.slot as usize) {
            Some((generation, Some(value))) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Take the occupant out; its slot gets a new generation, so `key` and its copies go stale.
    pub fn remove(&mut self, key: Key<T>) -> Option<T> {
        let entry = self.slots.get_mut(key.slot as usize)?;
        if entry.0 != key.generation || entry.1.is_none() {
            return None;
        }
        entry.0 = entry.0.checked_add(1).unwrap_or(NonZeroU32::MIN);
        self.free.push(key.slot);
        self.live -= 1;
        entry.1.take()
    }

    /// Let the occupant go, reading what `read` takes from it on the way out (without moving
    /// the occupant itself); its slot gets a new generation, so `key` and its copies go stale.
    #[inline]
    pub fn remove_with<R>(&mut self, key: Key<T>, read: impl FnOnce(&T) -> R) -> Option<R> {
        let entry = self.slots.get_mut(key.slot as usize)?;
        if entry.0 != key.generation {
            return None;
        }
        let value = entry.1.as_ref()?;
        let kept = read(value);
        entry.0 = entry.0.checked_add(1).unwrap_or(NonZeroU32::MIN);
        entry.1 = None;
        self.free.push(key.slot);
        self.live -= 1;
        Some(kept)
    }

    /// Occupants now.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Every occupant now.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|(_, value)| value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_occupants_key_goes_stale_even_when_its_slot_is_reused() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.slot(), b.slot(), "the slot is reused");
        assert!(slab.get(a).is_none());
        assert_eq!(slab.get(b), Some(&"b"));
        assert!(slab.remove(a).is_none());
        assert_eq!(slab.live(), 1);
    }

    #[test]
    fn no_key_of_any_earlier_occupant_matches_after_many_reuses_of_one_slot() {
        let mut slab = Slab::default();
        let mut old = Vec::new();
        for i in 0..1000 {
            let k = slab.insert(i);
            for &o in &old {
                assert!(slab.get(o).is_none());
            }
            assert_eq!(slab.remove(k), Some(i));
            old.push(k);
        }
    }
}
