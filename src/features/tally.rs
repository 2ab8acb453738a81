//! The per-thread counter of feature hits behind [`super::Vectorizer::transform`].

/// Counts feature ids and gives them back in increasing order, without sorting: a count per
/// feature, a bit per feature, and a bit per 64 features to skip empty stretches. A long
/// comment has thousands of n-gram hits; sorting them (by comparisons, then by radix) was
/// a fifth of its scoring time. One per thread, sized for the largest model seen, and all
/// zeros between two rows.
#[derive(Debug, Default)]
pub(super) struct Tally {
    counts: Vec<u32>,
    bits: Vec<u64>,
    summary: Vec<u64>,
    /// Started and not drained yet.
    dirty: bool,
}

thread_local! {
    pub(super) static TALLY: std::cell::RefCell<Tally> = std::cell::RefCell::new(Tally::default());
}

impl Tally {
    /// Makes room for ids below `bound`, and clears what a row that never finished (a
    /// panic between `start` and `drain`) left behind.
    pub(super) fn start(&mut self, bound: usize) {
        if self.dirty {
            self.counts.fill(0);
            self.bits.fill(0);
            self.summary.fill(0);
            self.dirty = false;
        }
        if self.counts.len() < bound {
            self.counts.resize(bound, 0);
            self.bits.resize(bound.div_ceil(64), 0);
            self.summary.resize(bound.div_ceil(64 * 64), 0);
        }
        self.dirty = true;
    }

    /// Counts `i`, below the `bound` given to [`Tally::start`].
    pub(super) fn add(&mut self, i: u32) {
        let i = i as usize;
        self.counts[i] += 1;
        self.bits[i >> 6] |= 1 << (i & 63);
        self.summary[i >> 12] |= 1 << ((i >> 6) & 63);
    }

    /// Calls `f(id, count)` for every id added since [`Tally::start`], in increasing order,
    /// and clears them.
    pub(super) fn drain(&mut self, bound: usize, mut f: impl FnMut(u32, u32)) {
        for s in 0..bound.div_ceil(64 * 64) {
            let mut summary = std::mem::take(&mut self.summary[s]);
            while summary != 0 {
                let b = s * 64 + summary.trailing_zeros() as usize;
                summary &= summary - 1;
                let mut bits = std::mem::take(&mut self.bits[b]);
                while bits != 0 {
                    let i = b * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    f(i as u32, std::mem::take(&mut self.counts[i]));
                }
            }
        }
        self.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_in_increasing_order_and_clears() {
        let mut state = 12345u64;
        let mut tally = Tally::default();
        for (n, bound) in [
            (0, 10),
            (5, 10),
            (100, 10),
            (3000, 500_000),
            (3000, 9000),
            (50, 70),
        ] {
            let v: Vec<u32> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) as u32) % bound
                })
                .collect();
            let mut want: std::collections::BTreeMap<u32, u32> = Default::default();
            v.iter().for_each(|&x| *want.entry(x).or_default() += 1);
            let mut got = Vec::new();
            tally.start(bound as usize);
            v.iter().for_each(|&i| tally.add(i));
            tally.drain(bound as usize, |i, c| got.push((i, c)));
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "n={n} bound={bound}"
            );
            assert!(tally.counts.iter().all(|&c| c == 0), "counts left behind");
            assert!(tally.bits.iter().chain(&tally.summary).all(|&b| b == 0));
        }
        assert_eq!(tally.counts.len(), 500_000, "sized for the largest bound");
        // A row left undrained (as a panic would) is cleared by the next start.
        tally.start(10);
        tally.add(3);
        tally.start(10);
        tally.add(4);
        let mut got = Vec::new();
        tally.drain(10, |i, c| got.push((i, c)));
        assert_eq!(got, [(4, 1)]);
    }
}
