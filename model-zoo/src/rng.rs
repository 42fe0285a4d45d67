//! A small seeded random number generator that works without std: reproducible synthetic data
//! in tests and benches, and seeded initialisation in the models.

/// A 64-bit linear congruential generator (Knuth's MMIX constants) with Box–Muller normals.
/// Not for cryptography; the same seed gives the same stream on every platform.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Advances the generator and returns its new 64-bit state.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        num_traits::Float::sqrt(-2.0 * num_traits::Float::ln(u))
            * num_traits::Float::cos(2.0 * core::f64::consts::PI * v)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn is_seeded_and_roughly_standard_normal() {
        let mut a = Rng::new(3);
        let mut b = Rng::new(3);
        let xs: alloc::vec::Vec<f64> = (0..20_000).map(|_| a.normal()).collect();
        assert!(
            xs.iter()
                .zip(core::iter::repeat_with(|| b.normal()))
                .all(|(x, y)| *x == y)
        );
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean}, var {var}"
        );
    }
}
