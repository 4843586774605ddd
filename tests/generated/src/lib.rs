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
pub mod responses {
    include!(concat!(env!("OUT_DIR"), "/responses.rs"));
}

/// Webhook events of `specs/webhooks.yaml`: 3.1 `webhooks` and a callback.
pub mod webhooks {
    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}
