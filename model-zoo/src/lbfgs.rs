//! Bounded limited-memory BFGS on the host, in f64, one iteration at a time.
//!
//! For fits over a handful of numbers (a Gaussian process's log hyperparameters), where the
//! objective and its gradient come from device work but the optimiser state is tiny. burn's own
//! `LBFGS` keeps that state as f32 device tensors, has no bounds, and runs many iterations per
//! call; this one keeps f64 on the host, projects onto box bounds as scikit-learn's
//! L-BFGS-B does, and is advanced one iteration per trainer step so its state can be
//! checkpointed and resumed exactly.

use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// Corrections kept (L-BFGS-B's default `m`).
const HISTORY: usize = 10;
/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO: f64 = 1e-4;
/// Trial points per line search before giving up.
const MAX_TRIALS: usize = 20;

/// When to stop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stopping {
    /// Largest entry of the projected gradient (L-BFGS-B's `pgtol`).
    pub gtol: f64,
    /// Relative decrease of the objective over one iteration (L-BFGS-B's `factr · eps`).
    pub ftol: f64,
    /// Iterations at most.
    pub max_iter: usize,
}

/// The optimiser's state: the current point, its value and gradient, the corrections and the
/// iteration count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lbfgs {
    /// The current point, within the bounds.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// The objective's gradient at `x`.
    pub gradient: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// Pairs `(s, y)`: steps and gradient changes, oldest first.
    history: Vec<(Vec<f64>, Vec<f64>)>,
    /// Iterations accepted so far.
    pub iteration: usize,
    /// Whether the optimiser has stopped: a [`Stopping`] rule is met, or no step could lower
    /// the objective.
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Lbfgs {
    /// Starts at `x` (projected into the bounds by the caller), where the objective is `value`
    /// with gradient `gradient`.
    pub fn new(
        x: Vec<f64>,
        value: f64,
        gradient: Vec<f64>,
        lower: Vec<f64>,
        upper: Vec<f64>,
    ) -> Self {
        Self {
            x,
            value,
            gradient,
            lower,
            upper,
            history: Vec::new(),
            iteration: 0,
            converged: false,
        }
    }

    /// Whether coordinate `i` sits on a bound that its negative gradient pushes against.
    fn is_pinned(&self, i: usize) -> bool {
        let (x, g) = (self.x[i], self.gradient[i]);
        (x <= self.lower[i] && g > 0.0) || (x >= self.upper[i] && g < 0.0)
    }

    /// The gradient with the pinned coordinates zeroed.
    fn projected_gradient(&self) -> Vec<f64> {
        (0..self.x.len())
            .map(|i| {
                if self.is_pinned(i) {
                    0.0
                } else {
                    self.gradient[i]
                }
            })
            .collect()
    }

    /// The search direction `−H·g` by the two-loop recursion over the free coordinates.
    fn direction(&self, projected: &[f64]) -> Vec<f64> {
        let mut q: Vec<f64> = projected.iter().map(|g| -g).collect();
        let mut alphas = vec![0.0; self.history.len()];
        for (k, (s, y)) in self.history.iter().enumerate().rev() {
            alphas[k] = dot(s, &q) / dot(y, s);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= alphas[k] * yi;
            }
        }
        if let Some((s, y)) = self.history.last() {
            let scale = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= scale);
        }
        for (k, (s, y)) in self.history.iter().enumerate() {
            let beta = dot(y, &q) / dot(y, s);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (alphas[k] - beta) * si;
            }
        }
        for (i, qi) in q.iter_mut().enumerate() {
            if projected[i] == 0.0 && self.is_pinned(i) {
                *qi = 0.0;
            }
        }
        q
    }

    /// One iteration: a search direction, then a backtracking line search on the projection
    /// into the bounds. `evaluate` gives the objective, its gradient and whatever the caller
    /// wants back from the accepted point (a failed evaluation, e.g. a matrix that is not
    /// positive definite there, is an infinite value, and the search steps back). Returns that
    /// extra of the accepted point, or `None` when the iteration could not move (converged, or
    /// no decrease found at the objective's precision; both set [`Lbfgs::converged`]).
    pub fn step<T, E>(
        &mut self,
        stopping: Stopping,
        mut evaluate: impl FnMut(&[f64]) -> Result<Option<(f64, Vec<f64>, T)>, E>,
    ) -> Result<Option<T>, E> {
        let projected = self.projected_gradient();
        let largest = projected.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        if self.converged || largest <= stopping.gtol || self.iteration >= stopping.max_iter {
            self.converged = true;
            return Ok(None);
        }
        let mut direction = self.direction(&projected);
        let mut slope = dot(&self.gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction (stale corrections): start over from steepest descent.
            self.history.clear();
            direction = projected.iter().map(|g| -g).collect();
            slope = dot(&self.gradient, &direction);
        }
        let mut t = if self.history.is_empty() {
            // First step: at most unit length, as L-BFGS-B's first iteration.
            let norm = num_traits::Float::sqrt(dot(&direction, &direction));
            (1.0 / norm).min(1.0)
        } else {
            1.0
        };
        for _ in 0..MAX_TRIALS {
            let trial: Vec<f64> = (0..self.x.len())
                .map(|i| (self.x[i] + t * direction[i]).clamp(self.lower[i], self.upper[i]))
                .collect();
            let step: Vec<f64> = trial.iter().zip(&self.x).map(|(a, b)| a - b).collect();
            let decrease = dot(&self.gradient, &step); // < 0 for a descent step
            if decrease >= 0.0 {
                break;
            }
            if let Some((value, gradient, extra)) = evaluate(&trial)? {
                if value.is_finite() && value <= self.value + ARMIJO * decrease {
                    let change: Vec<f64> = gradient
                        .iter()
                        .zip(&self.gradient)
                        .map(|(a, b)| a - b)
                        .collect();
                    // Keep only curvature pairs that keep the inverse Hessian positive definite.
                    if dot(&step, &change) > 1e-10 * dot(&change, &change) {
                        if self.history.len() == HISTORY {
                            self.history.remove(0);
                        }
                        self.history.push((step, change));
                    }
                    let relative =
                        (self.value - value) / self.value.abs().max(value.abs()).max(1.0);
                    self.x = trial;
                    self.value = value;
                    self.gradient = gradient;
                    self.iteration += 1;
                    let largest = self
                        .projected_gradient()
                        .iter()
                        .fold(0.0f64, |m, g| m.max(g.abs()));
                    self.converged = relative <= stopping.ftol
                        || largest <= stopping.gtol
                        || self.iteration >= stopping.max_iter;
                    return Ok(Some(extra));
                }
                // Backtrack to the minimum of the quadratic through f(0), f'(0) and f(t),
                // kept within [0.1·t, 0.5·t].
                if value.is_finite() {
                    let curvature = value - self.value - slope * t;
                    if curvature > 0.0 {
                        let minimum = -slope * t * t / (2.0 * curvature);
                        t = minimum.clamp(0.1 * t, 0.5 * t);
                        continue;
                    }
                }
            }
            t *= 0.5;
        }
        self.converged = true;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's function and its gradient.
    fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
        let (a, b) = (x[0], x[1]);
        let value = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
        let gradient = vec![
            -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
            200.0 * (b - a * a),
        ];
        (value, gradient)
    }

    fn minimise(start: Vec<f64>, lower: Vec<f64>, upper: Vec<f64>) -> Lbfgs {
        let (value, gradient) = rosenbrock(&start);
        let mut optimiser = Lbfgs::new(start, value, gradient, lower, upper);
        let stopping = Stopping {
            gtol: 1e-8,
            ftol: 0.0,
            max_iter: 500,
        };
        while !optimiser.converged {
            optimiser
                .step(stopping, |x| {
                    let (v, g) = rosenbrock(x);
                    Ok::<_, ()>(Some((v, g, ())))
                })
                .unwrap();
        }
        optimiser
    }

    #[test]
    fn finds_rosenbrocks_minimum() {
        let inf = f64::INFINITY;
        let result = minimise(vec![-1.2, 1.0], vec![-inf; 2], vec![inf; 2]);
        assert!((result.x[0] - 1.0).abs() < 1e-5, "{:?}", result.x);
        assert!((result.x[1] - 1.0).abs() < 1e-5, "{:?}", result.x);
        assert!(result.iteration < 100, "{} iterations", result.iteration);
    }

    /// With the minimum outside the box, the fit stops on the bound: `x₀ ≤ 0.5` gives the
    /// constrained minimum at (0.5, 0.25).
    #[test]
    fn stops_on_a_bound() {
        let inf = f64::INFINITY;
        let result = minimise(vec![-1.2, 1.0], vec![-inf; 2], vec![0.5, inf]);
        assert!((result.x[0] - 0.5).abs() < 1e-6, "{:?}", result.x);
        assert!((result.x[1] - 0.25).abs() < 1e-4, "{:?}", result.x);
    }
}
