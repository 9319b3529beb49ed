//! The instances a load balancer sends to (its rotation) and how it picks one, in constant or
//! logarithmic time whatever the number of instances: a member list with positions for uniform
//! draws and round robin, and an indexed min-heap of requests in flight for least outstanding.

use crate::engine::Stream;
use crate::model::Balancer;
use rand::RngExt;

const OUT: u32 = u32::MAX;

/// The instances in rotation and the state each balancing rule needs.
pub struct Rotation {
    rule: Balancer,
    /// Instances in rotation, in no particular order.
    members: Vec<u32>,
    /// Where each instance is in `members`, or `OUT`.
    position: Vec<u32>,
    /// Next member for round robin.
    cursor: u32,
    /// Requests in flight per instance (kept for least outstanding and power of two choices).
    load: Vec<u32>,
    /// Least outstanding: members ordered by (load, index).
    heap: Option<LoadHeap>,
}

impl Rotation {
    /// `instances` instances, all in rotation, balanced by `rule`.
    pub fn new(instances: u32, rule: Balancer) -> Rotation {
        let mut heap = (rule == Balancer::LeastOutstanding).then(|| LoadHeap::new(instances as usize));
        if let Some(h) = heap.as_mut() {
            for i in 0..instances {
                h.push(i, 0);
            }
        }
        Rotation {
            rule,
            members: (0..instances).collect(),
            position: (0..instances).collect(),
            cursor: 0,
            load: vec![0; instances as usize],
            heap,
        }
    }

    /// Whether instance `i` is in rotation.
    pub fn contains(&self, i: u32) -> bool {
        self.position[i as usize] != OUT
    }

    /// Take instance `i` out of rotation (a failed health check, a crash seen at once).
    pub fn remove(&mut self, i: u32) {
        let at = self.position[i as usize];
        if at == OUT {
            return;
        }
        let last = self.members.pop().unwrap_or(i);
        if last != i {
            self.members[at as usize] = last;
            self.position[last as usize] = at;
        }
        self.position[i as usize] = OUT;
        if let Some(h) = self.heap.as_mut() {
            h.remove(i);
        }
    }

    /// Put instance `i` back in rotation.
    pub fn insert(&mut self, i: u32) {
        if self.contains(i) {
            return;
        }
        self.position[i as usize] = self.members.len() as u32;
        self.members.push(i);
        if let Some(h) = self.heap.as_mut() {
            h.push(i, self.load[i as usize]);
        }
    }

    /// Instance `i` now has `in_flight` requests.
    #[inline]
    pub fn set_load(&mut self, i: u32, in_flight: u32) {
        self.load[i as usize] = in_flight;
        if let Some(h) = self.heap.as_mut() {
            h.update(i, in_flight);
        }
    }

    /// The instance for a new request, other than `avoid` when another is in rotation (a retry
    /// steering clear of the instance that just refused it); `None` when the rotation is empty.
    pub fn pick(&mut self, avoid: Option<u32>, rng: &mut Stream) -> Option<u32> {
        let n = self.members.len() as u32;
        if n == 0 {
            return None;
        }
        let avoid = avoid.filter(|&a| n > 1 && self.contains(a));
        let chosen = match self.rule {
            Balancer::RoundRobin => {
                let mut i = self.next_in_turn(n);
                if Some(i) == avoid {
                    i = self.next_in_turn(n);
                }
                i
            }
            Balancer::Random => self.draw(avoid, rng),
            Balancer::PowerOfTwo => {
                let a = self.draw(avoid, rng);
                if n - u32::from(avoid.is_some()) < 2 {
                    a
                } else {
                    // A second, different instance: draw among the others.
                    let b = loop {
                        let b = self.draw(avoid, rng);
                        if b != a {
                            break b;
                        }
                    };
                    // Ties go to the first draw, so equal loads spread evenly.
                    if self.load[b as usize] < self.load[a as usize] {
                        b
                    } else {
                        a
                    }
                }
            }
            Balancer::LeastOutstanding => {
                let heap = self.heap.as_ref()?;
                let top = heap.top()?;
                if Some(top) == avoid {
                    heap.second().unwrap_or(top)
                } else {
                    top
                }
            }
        };
        Some(chosen)
    }

    /// The member whose turn it is among `n`, and the turn moves on (a compare, not a division:
    /// this runs for every request).
    #[inline]
    fn next_in_turn(&mut self, n: u32) -> u32 {
        if self.cursor >= n {
            // The rotation shrank since the last turn.
            self.cursor %= n;
        }
        let i = self.members[self.cursor as usize];
        self.cursor += 1;
        if self.cursor == n {
            self.cursor = 0;
        }
        i
    }

    /// A member drawn uniformly, other than `avoid` (which, when given, is a member and not the
    /// only one).
    fn draw(&self, avoid: Option<u32>, rng: &mut Stream) -> u32 {
        let n = self.members.len() as u32;
        match avoid {
            None => self.members[rng.random_range(0..n) as usize],
            Some(a) => {
                let k = rng.random_range(0..n - 1);
                // Skip the avoided member's slot by mapping it to the last one.
                let slot = if k == self.position[a as usize] { n - 1 } else { k };
                self.members[slot as usize]
            }
        }
    }
}

/// An indexed binary min-heap of instances keyed by (load, index): the least loaded instance,
/// lowest index on ties, in O(1); updates in O(log n).
struct LoadHeap {
    heap: Vec<u32>,
    slot: Vec<u32>,
    key: Vec<u32>,
}

impl LoadHeap {
    fn new(instances: usize) -> LoadHeap {
        LoadHeap {
            heap: Vec::with_capacity(instances),
            slot: vec![OUT; instances],
            key: vec![0; instances],
        }
    }

    fn less(&self, a: u32, b: u32) -> bool {
        (self.key[a as usize], a) < (self.key[b as usize], b)
    }

    fn top(&self) -> Option<u32> {
        self.heap.first().copied()
    }

    /// The second smallest: the smaller of the top's children.
    fn second(&self) -> Option<u32> {
        match (self.heap.get(1), self.heap.get(2)) {
            (Some(&a), Some(&b)) => Some(if self.less(b, a) { b } else { a }),
            (Some(&a), None) => Some(a),
            _ => None,
        }
    }

    fn push(&mut self, i: u32, key: u32) {
        self.key[i as usize] = key;
        self.slot[i as usize] = self.heap.len() as u32;
        self.heap.push(i);
        self.up(self.heap.len() - 1);
    }

    fn remove(&mut self, i: u32) {
        let at = self.slot[i as usize];
        if at == OUT {
            return;
        }
        let last = self.heap.pop().unwrap_or(i);
        self.slot[i as usize] = OUT;
        if last != i {
            self.heap[at as usize] = last;
            self.slot[last as usize] = at;
            self.down(at as usize);
            self.up(self.slot[last as usize] as usize);
        }
    }

    fn update(&mut self, i: u32, key: u32) {
        let old = self.key[i as usize];
        self.key[i as usize] = key;
        let at = self.slot[i as usize];
        if at == OUT {
            return;
        }
        if key < old {
            self.up(at as usize);
        } else {
            self.down(at as usize);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.slot[self.heap[a] as usize] = a as u32;
        self.slot[self.heap[b] as usize] = b as u32;
    }

    fn up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !self.less(self.heap[at], self.heap[parent]) {
                break;
            }
            self.swap(at, parent);
            at = parent;
        }
    }

    fn down(&mut self, mut at: usize) {
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut best = at;
            if l < self.heap.len() && self.less(self.heap[l], self.heap[best]) {
                best = l;
            }
            if r < self.heap.len() && self.less(self.heap[r], self.heap[best]) {
                best = r;
            }
            if best == at {
                return;
            }
            self.swap(at, best);
            at = best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// The least loaded instance in rotation by a full scan (ties: the lowest index).
    fn scan(r: &Rotation, avoid: Option<u32>) -> Option<u32> {
        let avoid = avoid.filter(|&a| r.members.len() > 1 && r.contains(a));
        (0..r.load.len() as u32)
            .filter(|&i| r.contains(i) && Some(i) != avoid)
            .min_by_key(|&i| (r.load[i as usize], i))
    }

    #[test]
    fn least_outstanding_agrees_with_a_full_scan_through_loads_removals_and_returns() {
        let mut rng = stream(7, 0, "test:balancer");
        let mut r = Rotation::new(50, Balancer::LeastOutstanding);
        for step in 0..20_000 {
            let i = rng.random_range(0..50u32);
            match rng.random_range(0..10) {
                0 => r.remove(i),
                1 => r.insert(i),
                _ => r.set_load(i, rng.random_range(0..8)),
            }
            let avoid = (step % 3 == 0).then(|| rng.random_range(0..50u32));
            assert_eq!(r.pick(avoid, &mut rng), scan(&r, avoid), "step {step}");
        }
    }

    #[test]
    fn round_robin_visits_every_member_once_per_turn_and_steps_over_the_avoided_one() {
        let mut rng = stream(1, 0, "test:balancer");
        let mut r = Rotation::new(4, Balancer::RoundRobin);
        let turn: Vec<_> = (0..4).map(|_| r.pick(None, &mut rng).unwrap()).collect();
        assert_eq!(turn, vec![0, 1, 2, 3]);
        r.remove(1);
        let mut seen: Vec<_> = (0..3).map(|_| r.pick(None, &mut rng).unwrap()).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 2, 3]);
        for _ in 0..10 {
            assert_ne!(r.pick(Some(2), &mut rng), Some(2));
        }
    }

    #[test]
    fn uniform_draws_never_return_the_avoided_or_removed_instance_and_spread_evenly() {
        let mut rng = stream(3, 0, "test:balancer");
        for rule in [Balancer::Random, Balancer::PowerOfTwo] {
            let mut r = Rotation::new(5, rule);
            r.remove(4);
            let mut hits = [0u32; 5];
            let n = 40_000;
            for _ in 0..n {
                let i = r.pick(Some(0), &mut rng).unwrap();
                hits[i as usize] += 1;
            }
            assert_eq!((hits[0], hits[4]), (0, 0), "{rule:?}");
            // Equal loads: each of the 3 others gets a third (binomial sd ≈ 0.24 % of n).
            for &h in &hits[1..4] {
                assert!((f64::from(h) / f64::from(n) - 1.0 / 3.0).abs() < 0.012, "{rule:?} {hits:?}");
            }
        }
    }

    #[test]
    fn power_of_two_choices_takes_the_less_loaded_of_two_distinct_draws() {
        let mut rng = stream(5, 0, "test:balancer");
        let mut r = Rotation::new(3, Balancer::PowerOfTwo);
        r.set_load(0, 5);
        r.set_load(1, 1);
        r.set_load(2, 9);
        // Pairs {0,1}, {0,2}, {1,2} equally likely: 1 wins two pairs, 0 one, 2 none.
        let n = 30_000;
        let mut hits = [0u32; 3];
        for _ in 0..n {
            hits[r.pick(None, &mut rng).unwrap() as usize] += 1;
        }
        assert_eq!(hits[2], 0);
        assert!((f64::from(hits[1]) / f64::from(n) - 2.0 / 3.0).abs() < 0.015, "{hits:?}");
        // With one instance left besides the avoided one, that one is chosen.
        r.remove(2);
        assert_eq!(r.pick(Some(1), &mut rng), Some(0));
        r.remove(0);
        r.remove(1);
        assert_eq!(r.pick(None, &mut rng), None);
    }
}
