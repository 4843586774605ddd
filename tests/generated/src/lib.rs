//! Modules generated from the specs in `specs/` (see build.rs).

/// Types of `specs/tolerant.yaml`: every schema form the generator handles.
pub mod tolerant {
    include!(concat!(env!("OUT_DIR"), "/tolerant.rs"));
}

/// Operation metadata of `specs/operations.yaml`.
pub mod operations_spec {
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}
