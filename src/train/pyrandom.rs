//! CPython's `random.Random` as far as the paired bootstrap needs it: the Mersenne Twister
//! (MT19937) seeded from an integer as CPython seeds it, and `randrange(n)`. With it the
//! bootstrap of [`super::metrics::paired_bootstrap_auc`] draws the very resamples that
//! `bench/realdata/paired.py` draws, so the two give the same interval.

const N: usize = 624;
const M: usize = 397;

pub(super) struct PyRandom {
    state: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)`: the seed's 32-bit words, least significant first, through
    /// `init_by_array`.
    pub(super) fn new(seed: u64) -> Self {
        let (low, high) = (seed as u32, (seed >> 32) as u32);
        let key: &[u32] = if high == 0 { &[low] } else { &[low, high] };
        let mut r = PyRandom {
            state: [0; N],
            index: N,
        };
        r.init_by_array(key);
        r
    }

    fn init_genrand(&mut self, s: u32) {
        self.state[0] = s;
        for i in 1..N {
            let prev = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let mt = &mut self.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for k in 0..N {
            let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % N] & 0x7fff_ffff);
            let odd = if y & 1 == 1 { 0x9908_b0df } else { 0 };
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ odd;
        }
        self.index = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `randrange(n)` for `0 < n < 2³²`: `getrandbits(k)` of `n`'s bit length, drawn again
    /// until below `n`.
    pub(super) fn randrange(&mut self, n: usize) -> usize {
        assert!(n > 0 && n <= u32::MAX as usize, "randrange({n})");
        let k = usize::BITS - n.leading_zeros();
        loop {
            let r = (self.next_u32() >> (32 - k)) as usize;
            if r < n {
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_what_cpython_draws() {
        // python3 -c "import random; r = random.Random(42);
        //   print([r.randrange(10) for _ in range(8)], r.randrange(1000))"
        let mut r = PyRandom::new(42);
        let draws: Vec<usize> = (0..8).map(|_| r.randrange(10)).collect();
        assert_eq!(draws, PY_42_TEN);
        assert_eq!(r.randrange(1000), 89);
        // A seed wider than 32 bits is two key words:
        // r = random.Random(2**40 + 7); [r.randrange(300) for _ in range(5)]
        let mut r = PyRandom::new((1 << 40) + 7);
        let draws: Vec<usize> = (0..5).map(|_| r.randrange(300)).collect();
        assert_eq!(draws, [292, 243, 128, 64, 264]);
    }

    const PY_42_TEN: [usize; 8] = [1, 0, 4, 3, 3, 2, 1, 8];
}
