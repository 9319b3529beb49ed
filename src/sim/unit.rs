//! Units of work: what a client request or a queue message stands for. Every attempt, retry and
//! redelivery done for it — and every downstream job — carries its unit, so side effects can be
//! counted per unit (duplicates) and idempotency checks can recognise it.

/// No unit (work injected from outside the model).
pub const NO_UNIT: u32 = u32::MAX;

/// A unit of work alive in the simulation.
#[derive(Clone, Copy, Debug)]
struct Unit {
    /// Unique for the whole replication (slots are reused, keys never).
    key: u64,
    /// Jobs and messages that refer to it.
    refs: u32,
    /// Side effects it has had, one bit per effect.
    effects: u64,
}

/// Units in slots, freed when nothing refers to them any more.
#[derive(Default)]
pub struct Units {
    slots: Vec<Unit>,
    free: Vec<u32>,
    next_key: u64,
}

impl Units {
    /// A new unit with one reference.
    #[inline]
    pub fn create(&mut self) -> u32 {
        let unit = Unit {
            key: self.next_key,
            refs: 1,
            effects: 0,
        };
        self.next_key += 1;
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = unit;
                slot
            }
            None => {
                self.slots.push(unit);
                self.slots.len() as u32 - 1
            }
        }
    }

    /// One more reference to `u`.
    #[inline]
    pub fn retain(&mut self, u: u32) {
        if let Some(unit) = self.slots.get_mut(u as usize) {
            unit.refs += 1;
        }
    }

    /// One reference fewer to `u`; its slot is freed at zero.
    #[inline]
    pub fn release(&mut self, u: u32) {
        if let Some(unit) = self.slots.get_mut(u as usize) {
            unit.refs -= 1;
            if unit.refs == 0 {
                self.free.push(u);
            }
        }
    }

    /// The unit's key (`u64::MAX` for [`NO_UNIT`]).
    #[inline]
    pub fn key(&self, u: u32) -> u64 {
        self.slots.get(u as usize).map_or(u64::MAX, |unit| unit.key)
    }

    /// Record side effect `effect` for `u`; true when the unit had it already (a duplicate).
    pub fn record_effect(&mut self, u: u32, effect: u32) -> bool {
        let Some(unit) = self.slots.get_mut(u as usize) else {
            return false;
        };
        let bit = 1u64 << effect;
        let duplicate = unit.effects & bit != 0;
        unit.effects |= bit;
        duplicate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_effect_of_one_unit_is_a_duplicate_and_keys_are_never_reused() {
        let mut units = Units::default();
        let a = units.create();
        assert!(!units.record_effect(a, 3));
        assert!(units.record_effect(a, 3));
        assert!(!units.record_effect(a, 0));
        let key = units.key(a);
        units.release(a);
        let b = units.create();
        assert_eq!(a, b, "the slot is reused");
        assert_ne!(units.key(b), key);
        assert!(!units.record_effect(b, 3), "a new unit starts without effects");
    }
}
