//! Which of a replica's partitions hold an event it can take: a bitset over its list of
//! owned partitions, so that its round-robin look for the next event visits only those
//! (a replica owns up to the topic's 1000 partitions).

/// A set of indices into a replica's owned partitions.
#[derive(Debug, Default)]
pub(super) struct Ready {
    words: Vec<u64>,
    /// How many are set.
    count: usize,
}

impl Ready {
    /// An empty set for `len` indices.
    pub(super) fn reset(&mut self, len: usize) {
        self.words.clear();
        self.words.resize(len.div_ceil(64), 0);
        self.count = 0;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(super) fn insert(&mut self, i: usize) {
        let (word, bit) = (&mut self.words[i / 64], 1u64 << (i % 64));
        self.count += usize::from(*word & bit == 0);
        *word |= bit;
    }

    pub(super) fn remove(&mut self, i: usize) {
        let (word, bit) = (&mut self.words[i / 64], 1u64 << (i % 64));
        self.count -= usize::from(*word & bit != 0);
        *word &= !bit;
    }

    /// The indices in the set, from `start` on and then from 0 up to `start`: round-robin
    /// order.
    pub(super) fn from(&self, start: usize) -> impl Iterator<Item = usize> + '_ {
        let len = self.words.len() * 64;
        let start = start.min(len);
        self.within(start, len).chain(self.within(0, start))
    }

    /// The indices in the set in `lo..hi`, in order.
    fn within(&self, lo: usize, hi: usize) -> impl Iterator<Item = usize> + '_ {
        let mut w = lo / 64;
        let mut word = self.masked(w, lo, hi);
        std::iter::from_fn(move || loop {
            if word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                return Some(i);
            }
            w += 1;
            if w * 64 >= hi {
                return None;
            }
            word = self.masked(w, lo, hi);
        })
    }

    /// Word `w` with the bits outside `lo..hi` cleared.
    fn masked(&self, w: usize, lo: usize, hi: usize) -> u64 {
        let Some(&word) = self.words.get(w) else {
            return 0;
        };
        let base = w * 64;
        let below_lo = if lo > base {
            (1u64 << (lo - base)) - 1
        } else {
            0
        };
        let from_hi = if hi < base + 64 {
            !0u64 << hi.saturating_sub(base)
        } else {
            0
        };
        word & !below_lo & !from_hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(len: usize, members: &[usize]) -> Ready {
        let mut ready = Ready::default();
        ready.reset(len);
        for &i in members {
            ready.insert(i);
        }
        ready
    }

    #[test]
    fn visits_from_the_start_index_round_the_end_and_back() {
        let ready = set(10, &[1, 4, 7]);
        assert_eq!(ready.from(0).collect::<Vec<_>>(), [1, 4, 7]);
        assert_eq!(ready.from(4).collect::<Vec<_>>(), [4, 7, 1]);
        assert_eq!(ready.from(5).collect::<Vec<_>>(), [7, 1, 4]);
        assert_eq!(ready.from(8).collect::<Vec<_>>(), [1, 4, 7]);
        assert_eq!(ready.from(10).collect::<Vec<_>>(), [1, 4, 7]);
    }

    #[test]
    fn spans_words_as_a_thousand_partitions_need() {
        let members = [0, 63, 64, 127, 128, 500, 999];
        let mut ready = set(1000, &members);
        assert_eq!(ready.from(0).collect::<Vec<_>>(), members);
        assert_eq!(
            ready.from(64).collect::<Vec<_>>(),
            [64, 127, 128, 500, 999, 0, 63]
        );
        assert_eq!(
            ready.from(501).collect::<Vec<_>>(),
            [999, 0, 63, 64, 127, 128, 500]
        );
        ready.remove(63);
        ready.remove(63);
        ready.insert(999);
        assert_eq!(
            ready.from(999).collect::<Vec<_>>(),
            [999, 0, 64, 127, 128, 500]
        );
        assert_eq!(ready.count, 6);
    }

    #[test]
    fn agrees_with_a_plain_scan_of_every_subset_of_twelve() {
        for bits in 0u32..(1 << 12) {
            let members: Vec<usize> = (0..12).filter(|i| bits & (1 << i) != 0).collect();
            let ready = set(12, &members);
            assert_eq!(ready.is_empty(), members.is_empty());
            for start in 0..=12 {
                let plain: Vec<usize> = (start..12)
                    .chain(0..start)
                    .filter(|i| members.contains(i))
                    .collect();
                assert_eq!(
                    ready.from(start).collect::<Vec<_>>(),
                    plain,
                    "{bits:b} {start}"
                );
            }
        }
    }
}
