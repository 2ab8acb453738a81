//! Limited-memory BFGS (Nocedal & Wright, algorithms 7.4 and 7.5) with a backtracking
//! Armijo line search, for the smooth convex objectives of [`super::logistic`].
//!
//! Why not `argmin`'s L-BFGS: its `Vec<f64>` arithmetic allocates a new vector for every
//! dot, scale and add of the two-loop recursion, so on text problems (tens of thousands of
//! parameters, a few hundred rows per fold) it spent more time allocating and zeroing
//! pages than computing the gradient (perf: 30 % in `LBFGS::next_iter` plus 15 % in page
//! clearing and copies, training MLMA's English tweets). Here every buffer is allocated once
//! and the recursion works in place. All sums run in a fixed order: same input, same bits.

/// What the caller's objective does: the cost at `x`, with its gradient written to `grad`.
pub trait Objective {
    fn eval(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// Solver settings.
#[derive(Debug, Clone, Copy)]
pub struct Lbfgs {
    /// Correction pairs kept.
    pub memory: usize,
    /// Stop when the gradient's L2 norm is at most this.
    pub tolerance_grad: f64,
    pub max_iterations: u64,
}

/// Where the solver stopped.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub cost: f64,
    pub iterations: u64,
}

/// Armijo's sufficient-decrease constant.
const C1: f64 = 1e-4;
/// Halvings (or interpolated cuts) tried before the line search gives up.
const MAX_BACKTRACKS: usize = 40;

/// Dot product over eight interleaved partial sums (added in a fixed order), which the
/// compiler turns into SIMD lanes: a single running sum cannot be reordered.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f64; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    let pairs = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

impl Lbfgs {
    /// Minimises `f` from `x0`. Stops at the gradient tolerance, at the iteration cap, or
    /// when no step along the search direction lowers the cost any more (the cost is then
    /// as low as f64 lets it go).
    pub fn minimize(&self, f: &impl Objective, x0: Vec<f64>) -> Minimum {
        let n = x0.len();
        let m = self.memory.max(1);
        let mut x = x0;
        let mut g = vec![0.0; n];
        let mut fx = f.eval(&x, &mut g);
        let mut d = vec![0.0; n];
        let mut x_new = vec![0.0; n];
        let mut g_new = vec![0.0; n];
        // Ring buffer of correction pairs: s = x_{k+1} - x_k, y = g_{k+1} - g_k.
        let mut s_hist = vec![vec![0.0; n]; m];
        let mut y_hist = vec![vec![0.0; n]; m];
        let mut rho = vec![0.0; m];
        let mut a = vec![0.0; m];
        let (mut len, mut head) = (0usize, 0usize);
        let mut iterations = 0;
        while iterations < self.max_iterations {
            let g_norm = dot(&g, &g).sqrt();
            if g_norm <= self.tolerance_grad {
                break;
            }
            // Two-loop recursion: d = -H g.
            d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
            for j in 0..len {
                let i = (head + m - 1 - j) % m;
                a[i] = rho[i] * dot(&s_hist[i], &d);
                d.iter_mut()
                    .zip(&y_hist[i])
                    .for_each(|(d, y)| *d -= a[i] * y);
            }
            let mut step = 1.0;
            if len > 0 {
                let i = (head + m - 1) % m;
                let gamma = dot(&s_hist[i], &y_hist[i]) / dot(&y_hist[i], &y_hist[i]);
                d.iter_mut().for_each(|d| *d *= gamma);
            } else {
                // No curvature yet: a first step of unit length.
                step = 1.0 / g_norm;
            }
            for j in (0..len).rev() {
                let i = (head + m - 1 - j) % m;
                let b = rho[i] * dot(&y_hist[i], &d);
                d.iter_mut()
                    .zip(&s_hist[i])
                    .for_each(|(d, s)| *d += (a[i] - b) * s);
            }
            let mut slope = dot(&g, &d);
            if slope >= 0.0 || slope.is_nan() {
                // Not a descent direction (curvature lost to rounding): restart from the
                // gradient.
                d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
                slope = dot(&g, &d);
                step = 1.0 / g_norm;
                len = 0;
            }
            // Backtracking: cut the step (quadratic interpolation, kept within [0.1, 0.5]
            // of the last) until the cost drops enough.
            let mut accepted = None;
            for _ in 0..MAX_BACKTRACKS {
                x_new
                    .iter_mut()
                    .zip(x.iter().zip(&d))
                    .for_each(|(xn, (x, d))| *xn = x + step * d);
                let f_new = f.eval(&x_new, &mut g_new);
                if f_new.is_finite() && f_new <= fx + C1 * step * slope {
                    accepted = Some(f_new);
                    break;
                }
                let cut = if f_new.is_finite() {
                    let denom = 2.0 * (f_new - fx - step * slope);
                    (-slope * step / denom).clamp(0.1, 0.5)
                } else {
                    0.1
                };
                step *= cut;
            }
            let Some(f_new) = accepted else { break };
            iterations += 1;
            let (s, y) = (&mut s_hist[head], &mut y_hist[head]);
            for i in 0..n {
                s[i] = x_new[i] - x[i];
                y[i] = g_new[i] - g[i];
            }
            let sy = dot(s, y);
            // Convex objectives give sy >= 0; a pair without curvature is dropped so that
            // H stays positive definite.
            if sy > f64::EPSILON * dot(y, y) {
                rho[head] = 1.0 / sy;
                head = (head + 1) % m;
                len = (len + 1).min(m);
            }
            std::mem::swap(&mut x, &mut x_new);
            std::mem::swap(&mut g, &mut g_new);
            let decrease = fx - f_new;
            fx = f_new;
            if decrease <= f64::EPSILON * fx.abs().max(1.0) {
                break;
            }
        }
        Minimum {
            x,
            cost: fx,
            iterations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn eval(&self, x: &[f64], g: &mut [f64]) -> f64 {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        }
    }

    struct Quadratic(Vec<f64>);
    impl Objective for Quadratic {
        // Σ c_i (x_i - i)², badly scaled.
        fn eval(&self, x: &[f64], g: &mut [f64]) -> f64 {
            let mut f = 0.0;
            for (i, (&c, &xi)) in self.0.iter().zip(x).enumerate() {
                let r = xi - i as f64;
                f += c * r * r;
                g[i] = 2.0 * c * r;
            }
            f
        }
    }

    fn solver(tol: f64) -> Lbfgs {
        Lbfgs {
            memory: 10,
            tolerance_grad: tol,
            max_iterations: 1000,
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let m = solver(1e-8).minimize(&Rosenbrock, vec![-1.2, 1.0]);
        assert!((m.x[0] - 1.0).abs() < 1e-5, "{:?}", m);
        assert!((m.x[1] - 1.0).abs() < 1e-5, "{:?}", m);
        assert!(m.iterations > 10 && m.iterations < 200, "{}", m.iterations);
    }

    #[test]
    fn solves_a_badly_scaled_quadratic() {
        // Curvatures from 1 to 1,000 (scipy's L-BFGS-B, memory 10, needs ~2,500 iterations
        // when they reach 80,000).
        let c: Vec<f64> = (0..50).map(|i| 10f64.powf(i as f64 / 16.0)).collect();
        let m = solver(1e-6).minimize(&Quadratic(c), vec![0.0; 50]);
        assert!(m.iterations < 1000, "{}", m.iterations);
        for (i, x) in m.x.iter().enumerate() {
            assert!((x - i as f64).abs() < 1e-4, "x[{i}] = {x}");
        }
    }

    #[test]
    fn stops_at_the_iteration_cap_and_at_once_when_already_optimal() {
        let capped = Lbfgs {
            max_iterations: 3,
            ..solver(1e-12)
        }
        .minimize(&Rosenbrock, vec![-1.2, 1.0]);
        assert_eq!(capped.iterations, 3);
        let done = solver(1e-8).minimize(&Rosenbrock, vec![1.0, 1.0]);
        assert_eq!(done.iterations, 0);
        assert_eq!(done.cost, 0.0);
    }

    #[test]
    fn same_input_same_bits() {
        let c: Vec<f64> = (0..20).map(|i| 1.0 + i as f64).collect();
        let a = solver(1e-9).minimize(&Quadratic(c.clone()), vec![3.0; 20]);
        let b = solver(1e-9).minimize(&Quadratic(c), vec![3.0; 20]);
        assert_eq!(a.x, b.x);
        assert_eq!(a.iterations, b.iterations);
    }
}
