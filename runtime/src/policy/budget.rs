//! The retry budget: a token bucket shared by every call of an integration.
//! Each retry spends a token; each successful attempt earns back a fraction
//! of one. Under a total outage nothing is earned, so retries stop once the
//! initial reserve is spent and upstream load stays close to one attempt
//! per logical call, instead of multiplying it.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// Tokens available at start. Only successes earn more: after an outage
    /// the budget refills as calls succeed again.
    pub initial: f64,
    /// Most tokens the bucket holds.
    pub max: f64,
    /// Tokens earned per successful attempt (0.1: one retry per ten successes).
    pub per_success: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            initial: 10.0,
            max: 100.0,
            per_success: 0.1,
        }
    }
}

impl BudgetConfig {
    /// Refuses amounts that are negative or not numbers.
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        for (name, value) in [
            ("initial", self.initial),
            ("max", self.max),
            ("per_success", self.per_success),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(super::ConfigError::new(
                    format!("budget.{name}"),
                    format!("must be a finite number of at least 0, not {value}"),
                ));
            }
        }
        Ok(())
    }
}

/// The tokens are an `f64` kept as its bits in an atomic: every successful
/// call earns, so a lock here would be taken on every call.
#[derive(Debug)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: AtomicU64,
}

impl RetryBudget {
    pub fn new(config: BudgetConfig) -> Self {
        RetryBudget {
            config,
            tokens: AtomicU64::new(config.initial.min(config.max).to_bits()),
        }
    }

    /// Applies `f` to the tokens atomically; `f` returns the new count, or
    /// `None` to leave it. True when it changed.
    fn update(&self, f: impl Fn(f64) -> Option<f64>) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| {
                f(f64::from_bits(bits)).map(f64::to_bits)
            })
            .is_ok()
    }

    /// Takes a token for one retry; false when the budget is exhausted.
    pub fn try_spend(&self) -> bool {
        self.update(|t| (t >= 1.0).then_some(t - 1.0))
    }

    pub fn earn(&self) {
        let (per, max) = (self.config.per_success, self.config.max);
        // A full bucket is left alone (no write, the common case).
        self.update(|t| (t < max).then(|| (t + per).min(max)));
    }

    /// Tokens left.
    pub fn level(&self) -> f64 {
        f64::from_bits(self.tokens.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_the_reserve_then_refuses_until_successes_earn() {
        let b = RetryBudget::new(BudgetConfig {
            initial: 2.0,
            max: 5.0,
            per_success: 0.5,
        });
        assert!(b.try_spend() && b.try_spend());
        assert!(!b.try_spend());
        b.earn();
        assert!(!b.try_spend(), "half a token is not a retry");
        b.earn();
        assert!(b.try_spend());
        for _ in 0..100 {
            b.earn();
        }
        assert_eq!(b.level(), 5.0, "capped");
    }
}
