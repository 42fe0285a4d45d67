//! Covariance functions of Gaussian-process regression, written in scikit-learn's notation
//! (`"1.0 * RBF(1.0) + WhiteKernel(0.1)"`), evaluated on tensors so that the kernel matrix and
//! its derivatives (by autodiff) come from the device.
//!
//! The hyperparameters are numbered depth-first, left to right, as scikit-learn's `theta`:
//! each kernel's own values (a constant, length scales, `sigma_0`, a noise level), all positive
//! and fitted as their logarithms within scikit-learn's default bounds `[1e-5, 1e5]`.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use burn::tensor::{Bool, Tensor};

/// Smallest and largest value of a hyperparameter (scikit-learn's default bounds).
pub const BOUNDS: (f64, f64) = (1e-5, 1e5);

/// A Matern kernel's smoothness ν; these three have closed forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smoothness {
    /// ν = 1/2: the exponential kernel `exp(−r)`.
    Half,
    /// ν = 3/2: `(1 + √3 r) exp(−√3 r)`.
    ThreeHalves,
    /// ν = 5/2: `(1 + √5 r + 5r²/3) exp(−√5 r)`.
    FiveHalves,
}

impl Smoothness {
    fn value(self) -> f64 {
        match self {
            Self::Half => 0.5,
            Self::ThreeHalves => 1.5,
            Self::FiveHalves => 2.5,
        }
    }
}

/// A covariance function and its hyperparameters' values.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// `ConstantKernel(c)` (or a bare number): `c` everywhere; scales a kernel it multiplies.
    Constant(f64),
    /// `RBF(ℓ)`: `exp(−½‖(a − b)/ℓ‖²)`, one length scale or one per feature.
    Rbf(Vec<f64>),
    /// `Matern(ℓ, nu=ν)`: with `r = ‖(a − b)/ℓ‖`.
    Matern(Vec<f64>, Smoothness),
    /// `DotProduct(σ₀)`: `σ₀² + a·b` (the linear kernel).
    DotProduct(f64),
    /// `WhiteKernel(σ²)`: `σ²` on the diagonal of a training matrix, 0 between distinct sets.
    White(f64),
    /// `a + b`: the sum of two kernels.
    Sum(Box<Kernel>, Box<Kernel>),
    /// `a * b`: the elementwise product of two kernels.
    Product(Box<Kernel>, Box<Kernel>),
}

/// The kernels a config may name, for error messages.
const NAMES: &str = "RBF, Matern, DotProduct, WhiteKernel and ConstantKernel (or a number)";

impl Kernel {
    /// Parses scikit-learn's notation: kernels joined by `+` and `*` (`*` binds tighter),
    /// parentheses, numbers as constants, and arguments by position or name, e.g.
    /// `"2.0 * Matern(length_scale=[1, 3], nu=2.5) + WhiteKernel(noise_level=0.01)"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser { text, at: 0 };
        let kernel = parser.sum()?;
        parser.skip_spaces();
        if parser.at < text.len() {
            return Err(parser.error("expected `+`, `*` or the end"));
        }
        Ok(kernel)
    }

    /// The hyperparameters' values, depth-first.
    pub fn hyperparameters(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.visit(&mut |values| out.extend_from_slice(values));
        out
    }

    fn visit(&self, f: &mut impl FnMut(&[f64])) {
        match self {
            Self::Constant(v) | Self::DotProduct(v) | Self::White(v) => f(&[*v]),
            Self::Rbf(scales) | Self::Matern(scales, _) => f(scales),
            Self::Sum(a, b) | Self::Product(a, b) => {
                a.visit(f);
                b.visit(f);
            }
        }
    }

    /// This kernel with the hyperparameters `values` (depth-first, as
    /// [`Kernel::hyperparameters`] lists them).
    pub fn with_hyperparameters(&self, values: &[f64]) -> Self {
        let mut next = values.iter().copied();
        self.rebuild(&mut next)
    }

    fn rebuild(&self, next: &mut impl Iterator<Item = f64>) -> Self {
        let mut take = || next.next().expect("one value per hyperparameter");
        match self {
            Self::Constant(_) => Self::Constant(take()),
            Self::DotProduct(_) => Self::DotProduct(take()),
            Self::White(_) => Self::White(take()),
            Self::Rbf(scales) => Self::Rbf(scales.iter().map(|_| take()).collect()),
            Self::Matern(scales, nu) => Self::Matern(scales.iter().map(|_| take()).collect(), *nu),
            Self::Sum(a, b) => {
                let a = a.rebuild(next);
                Self::Sum(Box::new(a), Box::new(b.rebuild(next)))
            }
            Self::Product(a, b) => {
                let a = a.rebuild(next);
                Self::Product(Box::new(a), Box::new(b.rebuild(next)))
            }
        }
    }

    /// Checks the kernel against `n_features` columns: one length scale or one per feature,
    /// every hyperparameter within [`BOUNDS`].
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        let mut problem = None;
        self.check_scales(n_features, &mut problem);
        if let Some(problem) = problem {
            return Err(problem);
        }
        for value in self.hyperparameters() {
            if !(BOUNDS.0..=BOUNDS.1).contains(&value) {
                return Err(format!(
                    "kernel `{self}`: the value {value} is outside [{:e}, {:e}], the range the \
                     fit searches; start every length scale, constant and noise level inside it",
                    BOUNDS.0, BOUNDS.1
                ));
            }
        }
        Ok(())
    }

    fn check_scales(&self, n_features: usize, problem: &mut Option<String>) {
        match self {
            Self::Rbf(scales) | Self::Matern(scales, _)
                if scales.len() != 1 && scales.len() != n_features =>
            {
                *problem = Some(format!(
                    "the kernel has {} length scales; give one, or one per feature ({n_features})",
                    scales.len()
                ));
            }
            Self::Sum(a, b) | Self::Product(a, b) => {
                a.check_scales(n_features, problem);
                b.check_scales(n_features, problem);
            }
            _ => {}
        }
    }

    /// The kernel matrix `k(a_i, b_j)`, `[n, m]`, or `k(a_i, a_j)` with the white noise on its
    /// diagonal when `b` is `None`. `values` holds the hyperparameters (`[p]`, on the device,
    /// so autodiff flows through them); `centre` (`[1, d]`) is subtracted before distances
    /// are taken, so f32 loses nothing to cancellation far from the origin.
    pub fn matrix(
        &self,
        values: &Tensor<1>,
        a: &Tensor<2>,
        b: Option<&Tensor<2>>,
        centre: &Tensor<2>,
    ) -> Tensor<2> {
        self.matrix_from(&mut Cursor { values, next: 0 }, a, b, centre)
    }

    fn matrix_from(
        &self,
        cursor: &mut Cursor<'_>,
        a: &Tensor<2>,
        b: Option<&Tensor<2>>,
        centre: &Tensor<2>,
    ) -> Tensor<2> {
        let [n, d] = a.dims();
        let m = b.map_or(n, |b| b.dims()[0]);
        let device = a.device();
        match self {
            Self::Constant(_) => filled(cursor.take(1), n, m),
            Self::DotProduct(_) => {
                let sigma = filled(cursor.take(1), n, m);
                let b = b.unwrap_or(a).clone();
                crate::linalg::matmul(a.clone(), b.transpose()) + sigma.square()
            }
            Self::White(_) => {
                let noise = filled(cursor.take(1), n, m);
                match b {
                    None => Tensor::<2>::eye(n, &device) * noise,
                    // The noise is part of each observation, not shared between two sets;
                    // multiplying keeps the hyperparameter in the graph (gradient 0).
                    Some(_) => Tensor::zeros([n, m], &device) * noise,
                }
            }
            Self::Rbf(scales) | Self::Matern(scales, _) => {
                let length = cursor.take(scales.len()).reshape([1, scales.len()]);
                let length = if scales.len() == 1 {
                    length.repeat_dim(1, d)
                } else {
                    length
                };
                let scaled_a = (a.clone() - centre.clone()) / length.clone();
                let squared = match b {
                    None => {
                        // Exactly 0 on the diagonal: the expansion leaves f32 rounding there,
                        // and `r` of the exponential kernel would keep its square root.
                        let diagonal = Tensor::<2, Bool>::diag_mask([n, n], 0, &device).bool_not();
                        crate::linalg::squared_distances(scaled_a.clone(), scaled_a)
                            .mask_fill(diagonal, 0.0)
                    }
                    Some(b) => {
                        let scaled_b = (b.clone() - centre.clone()) / length;
                        crate::linalg::squared_distances(scaled_a, scaled_b)
                    }
                }
                .clamp_min(0.0);
                match self {
                    Self::Matern(_, nu) => matern(squared, *nu),
                    _ => squared.mul_scalar(-0.5).exp(),
                }
            }
            Self::Sum(x, y) => {
                x.matrix_from(cursor, a, b, centre) + y.matrix_from(cursor, a, b, centre)
            }
            Self::Product(x, y) => {
                x.matrix_from(cursor, a, b, centre) * y.matrix_from(cursor, a, b, centre)
            }
        }
    }

    /// `k(a_i, a_i)` for each row, `[n, 1]`, white noise included (scikit-learn's `diag`).
    pub fn diagonal(&self, values: &Tensor<1>, a: &Tensor<2>) -> Tensor<2> {
        self.diagonal_from(&mut Cursor { values, next: 0 }, a)
    }

    fn diagonal_from(&self, cursor: &mut Cursor<'_>, a: &Tensor<2>) -> Tensor<2> {
        let [n, _] = a.dims();
        let ones = || Tensor::<2>::ones([n, 1], &a.device());
        match self {
            Self::Constant(_) | Self::White(_) => ones() * cursor.take(1).reshape([1, 1]),
            Self::DotProduct(_) => {
                a.clone().square().sum_dim(1) + cursor.take(1).reshape([1, 1]).square()
            }
            Self::Rbf(scales) | Self::Matern(scales, _) => {
                cursor.take(scales.len());
                ones()
            }
            Self::Sum(x, y) => x.diagonal_from(cursor, a) + y.diagonal_from(cursor, a),
            Self::Product(x, y) => x.diagonal_from(cursor, a) * y.diagonal_from(cursor, a),
        }
    }
}

/// The one-element `value` as an `[n, m]` matrix, by an outer product of ones instead of
/// broadcasting: burn-wgpu 0.22.1's autodiff sums the gradient of a broadcast over a large
/// tensor wrongly (measured on lavapipe: `[1, 1]` broadcast over 1000 × 1000 got 52,295
/// instead of 199,500, the same 0.26 as its long `mean()`), while matmul's backward is right.
fn filled(value: Tensor<1>, n: usize, m: usize) -> Tensor<2> {
    let device = value.device();
    let column = crate::linalg::matmul(Tensor::ones([n, 1], &device), value.reshape([1, 1]));
    crate::linalg::matmul(column, Tensor::ones([1, m], &device))
}

/// Matern covariance from squared scaled distances. `r = √(d²)` is taken of `d²` clamped to
/// 1e-30, so the derivative stays finite (and 0) where the distance is 0.
fn matern(squared: Tensor<2>, nu: Smoothness) -> Tensor<2> {
    let r = squared.clone().clamp_min(1e-30).sqrt();
    match nu {
        Smoothness::Half => r.neg().exp(),
        Smoothness::ThreeHalves => {
            let s = r.mul_scalar(num_traits::Float::sqrt(3.0));
            s.clone().add_scalar(1.0) * s.neg().exp()
        }
        Smoothness::FiveHalves => {
            let s = r.mul_scalar(num_traits::Float::sqrt(5.0));
            (s.clone().add_scalar(1.0) + squared.mul_scalar(5.0 / 3.0)) * s.neg().exp()
        }
    }
}

/// Hands out the hyperparameters in depth-first order.
struct Cursor<'a> {
    values: &'a Tensor<1>,
    next: usize,
}

impl Cursor<'_> {
    fn take(&mut self, count: usize) -> Tensor<1> {
        let out = self.values.clone().narrow(0, self.next, count);
        self.next += count;
        out
    }
}

/// The kernel in the notation [`Kernel::parse`] reads, so a fitted kernel can be pasted into a
/// config.
impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scales = |scales: &[f64]| match scales {
            [one] => number(*one),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|v| number(*v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        match self {
            Self::Constant(v) => write!(f, "{}", number(*v)),
            Self::Rbf(s) => write!(f, "RBF({})", scales(s)),
            Self::Matern(s, nu) => write!(f, "Matern({}, nu={})", scales(s), nu.value()),
            Self::DotProduct(v) => write!(f, "DotProduct({})", number(*v)),
            Self::White(v) => write!(f, "WhiteKernel({})", number(*v)),
            Self::Sum(a, b) => write!(f, "{a} + {b}"),
            Self::Product(a, b) => {
                let wrap = |k: &Kernel| match k {
                    Self::Sum(..) => format!("({k})"),
                    _ => k.to_string(),
                };
                write!(f, "{} * {}", wrap(a), wrap(b))
            }
        }
    }
}

/// Six significant digits.
fn number(v: f64) -> String {
    let text = format!("{v:.5e}");
    // Back through f64 to drop trailing zeros: "1.17728e0" → 1.17728.
    let parsed: f64 = text.parse().unwrap_or(v);
    format!("{parsed}")
}

/// A recursive-descent parser over the kernel text; `at` is a byte offset.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, what: &str) -> String {
        format!(
            "kernel `{}`: {what} at column {}",
            self.text,
            self.text[..self.at].chars().count() + 1
        )
    }

    fn skip_spaces(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, symbol: char) -> bool {
        self.skip_spaces();
        if self.text[self.at..].starts_with(symbol) {
            self.at += symbol.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        if self.eat(symbol) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{symbol}`")))
        }
    }

    fn sum(&mut self) -> Result<Kernel, String> {
        let mut kernel = self.product()?;
        while self.eat('+') {
            kernel = Kernel::Sum(Box::new(kernel), Box::new(self.product()?));
        }
        Ok(kernel)
    }

    fn product(&mut self) -> Result<Kernel, String> {
        let mut kernel = self.factor()?;
        while self.eat('*') {
            kernel = Kernel::Product(Box::new(kernel), Box::new(self.factor()?));
        }
        Ok(kernel)
    }

    fn factor(&mut self) -> Result<Kernel, String> {
        if self.eat('(') {
            let kernel = self.sum()?;
            self.expect(')')?;
            return Ok(kernel);
        }
        self.skip_spaces();
        let start = self.at;
        if let Some(value) = self.number()? {
            if value.is_nan() || value <= 0.0 {
                self.at = start;
                return Err(self.error("a constant must be > 0"));
            }
            return Ok(Kernel::Constant(value));
        }
        let name = self.identifier();
        if name.is_empty() {
            return Err(self.error(&format!("expected a kernel ({NAMES})")));
        }
        let parameters: &[&str] = match name {
            "RBF" => &["length_scale"],
            "Matern" => &["length_scale", "nu"],
            "DotProduct" => &["sigma_0"],
            "WhiteKernel" => &["noise_level"],
            "ConstantKernel" | "C" => &["constant_value"],
            _ => {
                self.at = start;
                return Err(self.error(&format!("unknown kernel `{name}`; kernels are {NAMES}")));
            }
        };
        let mut values: Vec<Option<Vec<f64>>> = vec![None; parameters.len()];
        self.expect('(')?;
        let mut position = 0;
        if !self.eat(')') {
            loop {
                self.skip_spaces();
                let before = self.at;
                let key = self.identifier();
                let slot = if !key.is_empty() && self.eat('=') {
                    parameters.iter().position(|p| *p == key).ok_or_else(|| {
                        self.at = before;
                        self.error(&format!(
                            "`{name}` has no argument `{key}` (it takes {})",
                            parameters.join(", ")
                        ))
                    })?
                } else {
                    self.at = before;
                    position
                };
                if slot >= parameters.len() {
                    return Err(self.error(&format!("too many arguments for `{name}`")));
                }
                values[slot] = Some(self.value()?);
                position = slot + 1;
                if self.eat(')') {
                    break;
                }
                self.expect(',')?;
            }
        }
        let scalar = |values: &Option<Vec<f64>>, what: &str| -> Result<f64, String> {
            match values.as_deref() {
                None => Ok(1.0),
                Some([one]) => Ok(*one),
                Some(_) => Err(self.error(&format!("`{what}` takes one number"))),
            }
        };
        Ok(match name {
            "RBF" => Kernel::Rbf(values[0].clone().unwrap_or(vec![1.0])),
            "Matern" => {
                let nu = match values[1].as_deref() {
                    None | Some([1.5]) => Smoothness::ThreeHalves,
                    Some([0.5]) => Smoothness::Half,
                    Some([2.5]) => Smoothness::FiveHalves,
                    Some(_) => return Err(self.error("`nu` must be 0.5, 1.5 or 2.5")),
                };
                Kernel::Matern(values[0].clone().unwrap_or(vec![1.0]), nu)
            }
            "DotProduct" => Kernel::DotProduct(scalar(&values[0], "sigma_0")?),
            "WhiteKernel" => Kernel::White(scalar(&values[0], "noise_level")?),
            _ => Kernel::Constant(scalar(&values[0], "constant_value")?),
        })
    }

    fn identifier(&mut self) -> &'a str {
        let rest: &'a str = &self.text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            return "";
        }
        self.at += len;
        &rest[..len]
    }

    fn number(&mut self) -> Result<Option<f64>, String> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') {
            return Ok(None);
        }
        let len = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || c == '.'
                    || c == 'e'
                    || c == 'E'
                    || ((c == '-' || c == '+') && (i == 0 || rest[..i].ends_with(['e', 'E']))))
            })
            .map_or(rest.len(), |(i, _)| i);
        let value = rest[..len]
            .parse::<f64>()
            .map_err(|_| self.error(&format!("`{}` is not a number", &rest[..len])))?;
        self.at += len;
        Ok(Some(value))
    }

    /// A number, or a list of numbers in brackets.
    fn value(&mut self) -> Result<Vec<f64>, String> {
        if self.eat('[') {
            let mut out = Vec::new();
            loop {
                out.push(
                    self.number()?
                        .ok_or_else(|| self.error("expected a number"))?,
                );
                if self.eat(']') {
                    return Ok(out);
                }
                self.expect(',')?;
            }
        }
        Ok(vec![self.number()?.ok_or_else(|| {
            self.error("expected a number or a list `[...]`")
        })?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_f32;
    use crate::linalg::SumAll;
    use crate::testing::for_each_device;
    use burn::tensor::TensorData;

    #[test]
    fn parses_scikit_learns_notation() {
        let kernel = Kernel::parse("1.0 * RBF(1.0) + WhiteKernel(noise_level=0.1)").unwrap();
        assert_eq!(
            kernel,
            Kernel::Sum(
                Box::new(Kernel::Product(
                    Box::new(Kernel::Constant(1.0)),
                    Box::new(Kernel::Rbf(vec![1.0]))
                )),
                Box::new(Kernel::White(0.1))
            )
        );
        assert_eq!(kernel.hyperparameters(), [1.0, 1.0, 0.1]);
        let ard = Kernel::parse("C(2) * (Matern([1, 2.5e-1], nu=2.5) + DotProduct())").unwrap();
        assert_eq!(ard.hyperparameters(), [2.0, 1.0, 0.25, 1.0]);
        // Printed back in the same notation, and read again to the same kernel.
        let text = ard.to_string();
        assert_eq!(text, "2 * (Matern([1, 0.25], nu=2.5) + DotProduct(1))");
        assert_eq!(Kernel::parse(&text).unwrap(), ard);
        let fitted = kernel.with_hyperparameters(&[0.4749267, 1.17728324, 0.08277395]);
        assert_eq!(
            fitted.to_string(),
            "0.474927 * RBF(1.17728) + WhiteKernel(0.0827739)"
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let error = |text: &str| Kernel::parse(text).unwrap_err();
        assert_eq!(
            error("1.0 * RBG(1.0)"),
            "kernel `1.0 * RBG(1.0)`: unknown kernel `RBG`; kernels are RBF, Matern, \
             DotProduct, WhiteKernel and ConstantKernel (or a number) at column 7"
        );
        assert!(
            error("RBF(1.0").ends_with("expected `,` at column 8"),
            "{}",
            error("RBF(1.0")
        );
        assert!(error("Matern(1.0, nu=2)").contains("`nu` must be 0.5, 1.5 or 2.5"));
        assert!(error("RBF(scale=2)").contains("`RBF` has no argument `scale`"));
        assert!(error("RBF(1) +").contains("expected a kernel"));
        assert!(error("-1 * RBF(1)").contains("a constant must be > 0"));
        let kernel = Kernel::parse("RBF([1, 2, 3])").unwrap();
        assert!(kernel.check(2).unwrap_err().contains("3 length scales"));
        let outside = Kernel::parse("RBF(1) + WhiteKernel(0)").unwrap().check(1);
        assert!(
            outside.as_ref().unwrap_err().starts_with(
                "kernel `RBF(1) + WhiteKernel(0)`: the value 0 is outside [1e-5, 1e5]"
            ),
            "{outside:?}"
        );
        assert!(kernel.check(3).is_ok());
    }

    /// `∂/∂log θ` of `Σ W ⊙ K(θ)` by autodiff, as the Gaussian process takes it.
    fn surrogate_gradient(kernel: &Kernel, x: &Tensor<2>, w: &Tensor<2>) -> Vec<f64> {
        let ad = x.device().autodiff();
        let theta: Vec<f32> = kernel
            .hyperparameters()
            .iter()
            .map(|v| num_traits::Float::ln(*v) as f32)
            .collect();
        let p = theta.len();
        let theta = Tensor::<1>::from_data(TensorData::new(theta, [p]), &ad).require_grad();
        let x = x.clone().autodiff();
        let centre = crate::linalg::mean_rows(x.clone());
        let matrix = kernel.matrix(&theta.clone().exp(), &x, None, &centre);
        let grads = (matrix * w.clone().autodiff()).sum_all().backward();
        read_f32(theta.grad(&grads).unwrap())
            .unwrap()
            .iter()
            .map(|g| *g as f64)
            .collect()
    }

    fn symmetric(n: usize, seed: u64, device: &burn::tensor::Device) -> Tensor<2> {
        let mut rng = crate::rng::Rng::new(seed);
        let mut w = vec![0.0f32; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = rng.normal() as f32;
                w[i * n + j] = v;
                w[j * n + i] = v;
            }
        }
        Tensor::from_data(TensorData::new(w, [n, n]), device)
    }

    /// A constant and a noise level scale the whole matrix and its diagonal: their gradients
    /// are `c·ΣW` and `σ²·tr W`. At 1000 rows this caught burn-wgpu's broadcast-gradient bug.
    #[test]
    fn scalar_hyperparameter_gradients_on_every_backend() {
        let n = 1000;
        for_each_device(|device| {
            let w = symmetric(n, 3, device);
            let host = read_f32(w.clone()).unwrap();
            let total: f64 = host.iter().map(|v| *v as f64).sum();
            let trace: f64 = (0..n).map(|i| host[i * n + i] as f64).sum();
            let x = Tensor::<2>::zeros([n, 1], device);
            let kernel = Kernel::parse("ConstantKernel(2.0) + WhiteKernel(0.5)").unwrap();
            let gradient = surrogate_gradient(&kernel, &x, &w);
            for (got, want) in gradient.iter().zip([2.0 * total, 0.5 * trace]) {
                assert!(
                    (got - want).abs() <= 1e-3 * want.abs().max(10.0),
                    "{device:?}: {gradient:?} vs [{}, {}]",
                    2.0 * total,
                    0.5 * trace
                );
            }
        });
    }

    /// Every kernel's autodiff gradient equals central finite differences of the same matrix.
    #[test]
    fn kernel_gradients_match_finite_differences_on_every_backend() {
        let kernel = Kernel::parse(
            "2.0 * Matern(0.7, nu=0.5) + 0.5 * Matern([0.9, 1.3], nu=1.5) * DotProduct(0.3) \
             + RBF([1.2, 0.8]) * Matern(1.1, nu=2.5) + WhiteKernel(0.05)",
        )
        .unwrap();
        let n = 60;
        let mut rng = crate::rng::Rng::new(9);
        let points: Vec<f32> = (0..2 * n).map(|_| rng.normal() as f32).collect();
        for_each_device(|device| {
            let x = Tensor::<2>::from_data(TensorData::new(points.clone(), [n, 2]), device);
            let w = symmetric(n, 4, device);
            let gradient = surrogate_gradient(&kernel, &x, &w);
            let centre = crate::linalg::mean_rows(x.clone());
            let value = |values: &[f64]| -> f64 {
                let values: Vec<f32> = values.iter().map(|v| *v as f32).collect();
                let p = values.len();
                let values = Tensor::<1>::from_data(TensorData::new(values, [p]), device);
                let matrix = kernel.matrix(&values, &x, None, &centre);
                read_f32((matrix * w.clone()).sum_all()).unwrap()[0] as f64
            };
            let base = kernel.hyperparameters();
            let h = 1e-3;
            for (i, got) in gradient.iter().enumerate() {
                let mut up = base.clone();
                let mut down = base.clone();
                up[i] *= num_traits::Float::exp(h);
                down[i] *= num_traits::Float::exp(-h);
                let want = (value(&up) - value(&down)) / (2.0 * h);
                assert!(
                    (got - want).abs() <= 1e-2 * want.abs().max(1.0),
                    "{device:?}: hyperparameter {i}: autodiff {got}, finite differences {want}"
                );
            }
        });
    }
}
