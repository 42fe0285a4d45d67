//! `x·W + b` for a [`Linear`] layer, safe for microcontrollers.

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `x·W + b`. A single row is multiplied and summed elementwise instead of going through
/// matmul: the gradient of a one-row matmul is an outer product, which burn-flex hands to gemm,
/// and gemm without std allocates a cache-sized scratch buffer on every call (about 256 KiB
/// measured under QEMU): more RAM than a microcontroller has. Batches keep the matmul.
pub fn affine(linear: &Linear, x: Tensor<2>) -> Tensor<2> {
    if x.dims()[0] != 1 {
        return linear.forward(x);
    }
    // [d, 1] * [d, k] → [d, k], summed over d → [1, k].
    let y = (x.transpose() * linear.weight.val()).sum_dim(0);
    match &linear.bias {
        Some(bias) => y + bias.val().unsqueeze::<2>(),
        None => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_f32;
    use crate::testing::{features, for_each_device};
    use burn::nn::LinearConfig;

    #[test]
    fn one_row_equals_the_matmul() {
        for_each_device(|device| {
            let linear = LinearConfig::new(3, 2).init(device);
            let x = features(&[0.5, -1.0, 2.0, 1.0, 0.0, -0.5], 3, device);
            let batched = read_f32(linear.forward(x.clone())).unwrap();
            for row in 0..2 {
                let one = read_f32(affine(&linear, x.clone().narrow(0, row, 1))).unwrap();
                for (a, b) in one.iter().zip(&batched[row * 2..row * 2 + 2]) {
                    assert!((a - b).abs() < 1e-6, "{one:?} vs {batched:?}");
                }
            }
        });
    }
}
