//! [`Authenticators`]: several security schemes on one integration (an
//! OAuth credential for some operations, an API key for others). Each
//! operation is authenticated by the first of its security alternatives
//! that is a single configured scheme; one with none fails with
//! [`AuthFailure::NoSchemeConfigured`].

use super::scheme_auth::alternative_for;
use crate::call::{AuthFailure, AuthFuture, Authenticator, Authorization};
use crate::operation::OperationMeta;
use crate::policy::ConfigError;
use http::{HeaderMap, StatusCode};
use std::sync::Arc;

/// Which authenticator issued a credential: kept in the generation's low
/// byte, so a rejection goes back to it.
const INDEX_BITS: u32 = 8;

/// Authenticators by scheme name (at most 256).
#[derive(Debug, Default)]
pub struct Authenticators {
    schemes: Vec<(String, Arc<dyn Authenticator>)>,
}

impl Authenticators {
    pub fn new() -> Self {
        Authenticators::default()
    }

    /// `authenticator` for the operations secured by `scheme` (its name in
    /// the spec's `securitySchemes`). A later one for the same scheme
    /// replaces it; a 257th scheme is refused.
    pub fn with(
        mut self,
        scheme: impl Into<String>,
        authenticator: Arc<dyn Authenticator>,
    ) -> Result<Self, ConfigError> {
        let scheme = scheme.into();
        self.schemes.retain(|(s, _)| *s != scheme);
        if self.schemes.len() >= 1 << INDEX_BITS {
            return Err(ConfigError::new(
                "authenticators",
                format!("at most {} schemes", 1 << INDEX_BITS),
            ));
        }
        self.schemes.push((scheme, authenticator));
        Ok(self)
    }
}

impl Authenticator for Authenticators {
    fn authorize<'a>(
        &'a self,
        operation: &'a OperationMeta,
    ) -> AuthFuture<'a, Result<Option<Authorization>, AuthFailure>> {
        Box::pin(async move {
            let names: Vec<&str> = self.schemes.iter().map(|(s, _)| s.as_str()).collect();
            let Some(index) = alternative_for(operation, &names)? else {
                return Ok(None);
            };
            let (_, authenticator) = &self.schemes[index];
            let authorization = authenticator.authorize(operation).await?;
            Ok(authorization.map(|mut a| {
                a.generation = a.generation << INDEX_BITS | index as u64;
                a
            }))
        })
    }

    fn rejected<'a>(
        &'a self,
        generation: u64,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<bool, AuthFailure>> {
        let index = (generation & ((1 << INDEX_BITS) - 1)) as usize;
        match self.schemes.get(index) {
            Some((_, authenticator)) => {
                authenticator.rejected(generation >> INDEX_BITS, status, headers)
            }
            None => Box::pin(std::future::ready(Ok(false))),
        }
    }
}
