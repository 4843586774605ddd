//! Modules generated from the specs in `specs/` (see build.rs).

/// Types of `specs/tolerant.yaml`: every schema form the generator handles.
pub mod tolerant {
    include!(concat!(env!("OUT_DIR"), "/tolerant.rs"));
}

/// Operation metadata of `specs/operations.yaml`.
pub mod operations_spec {
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}

/// Client of `specs/params.yaml`: every parameter location and style.
pub mod params {
    include!(concat!(env!("OUT_DIR"), "/params.rs"));
}

/// Client of `specs/bodies.yaml`: every request body kind.
pub mod bodies {
    include!(concat!(env!("OUT_DIR"), "/bodies.rs"));
}

/// Client of `specs/responses.yaml`: several responses per operation and
/// every pagination style.
/// `bodies` with one more optional field in `Widget` (written by build.rs).
pub mod bodies_grown {
    include!(concat!(env!("OUT_DIR"), "/bodies_grown.rs"));
}

pub mod responses {
    include!(concat!(env!("OUT_DIR"), "/responses.rs"));
}

/// Webhook events of `specs/webhooks.yaml`: 3.1 `webhooks` and a callback.
pub mod webhooks {
    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}

/// Client of `specs/swagger2.yaml`: the Swagger 2.0 constructs, rewritten
/// as OpenAPI 3.0 at load.
pub mod swagger2 {
    include!(concat!(env!("OUT_DIR"), "/swagger2.rs"));
}

/// Client of `specs/sharing.yaml`: identical inline schemas written once,
/// the copies aliases.
pub mod sharing {
    include!(concat!(env!("OUT_DIR"), "/sharing.rs"));
}

/// Client of Docker Engine's API, from its Swagger 2.0 `swagger.yaml`.
pub mod docker_engine {
    include!(concat!(env!("OUT_DIR"), "/docker_engine.rs"));
}

/// Client of Gitea's API, from its Swagger 2.0 document.
pub mod gitea {
    include!(concat!(env!("OUT_DIR"), "/gitea.rs"));
}

/// Every generated file again, in private modules that nothing uses, as an
/// app that `include!`s a client and calls a few of its operations has it:
/// generated code must not warn there (dead code, unused imports).
#[deny(warnings)]
mod included_privately {
    mod tolerant {
        include!(concat!(env!("OUT_DIR"), "/tolerant.rs"));
    }
    mod operations_spec {
        include!(concat!(env!("OUT_DIR"), "/operations.rs"));
    }
    mod params {
        include!(concat!(env!("OUT_DIR"), "/params.rs"));
    }
    mod bodies {
        include!(concat!(env!("OUT_DIR"), "/bodies.rs"));
    }
    mod responses {
        include!(concat!(env!("OUT_DIR"), "/responses.rs"));
    }
    mod webhooks {
        include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
    }
    mod swagger2 {
        include!(concat!(env!("OUT_DIR"), "/swagger2.rs"));
    }
    mod sharing {
        include!(concat!(env!("OUT_DIR"), "/sharing.rs"));
    }
}

/// What the relay tests and the relay process (src/bin) share.
pub mod relay_settings {
    use std::time::Duration;
    use wharf::call::IntegrationConfig;
    use wharf::policy::retry::RetryPolicy;
    use wharf::relay::RelayConfig;
    use wharf::webhooks::RetrySchedule;

    /// The integration's config: one attempt per call, no breaker (the
    /// relay's schedule retries, durably).
    pub fn integration_config() -> IntegrationConfig {
        IntegrationConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            breaker: None,
            ..IntegrationConfig::default()
        }
    }

    /// Retries at once, plenty of them: a pass slowed down past its lease
    /// on a loaded machine hands its calls over (another attempt).
    pub fn relay_config() -> RelayConfig {
        RelayConfig {
            schedule: RetrySchedule::delays(vec![Duration::ZERO; 10]),
            lease: Duration::from_secs(5),
            batch: 64,
            concurrency: 16,
            poll_interval: Duration::from_millis(20),
        }
    }
}
