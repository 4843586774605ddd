//! The retry budget: a token bucket shared by every call of an integration.
//! Each retry spends a token; each successful attempt earns back a fraction
//! of one. Under a total outage nothing is earned, so retries stop once the
//! initial reserve is spent and upstream load stays close to one attempt
//! per logical call, instead of multiplying it.

use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// Tokens available at start (and the floor a quiet period refills to).
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

#[derive(Debug)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: Mutex<f64>,
}

impl RetryBudget {
    pub fn new(config: BudgetConfig) -> Self {
        RetryBudget {
            config,
            tokens: Mutex::new(config.initial.min(config.max)),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut f64) -> R) -> R {
        match self.tokens.lock() {
            Ok(mut t) => f(&mut t),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Takes a token for one retry; false when the budget is exhausted.
    pub fn try_spend(&self) -> bool {
        self.with(|t| {
            if *t >= 1.0 {
                *t -= 1.0;
                true
            } else {
                false
            }
        })
    }

    pub fn earn(&self) {
        let (per, max) = (self.config.per_success, self.config.max);
        self.with(|t| *t = (*t + per).min(max));
    }

    /// Tokens left.
    pub fn level(&self) -> f64 {
        self.with(|t| *t)
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
