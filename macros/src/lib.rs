//! wharf-macros: procedural macros of wharf.
//!
//! Empty for now: `wharf::generate!` (issue 3) and the policy attributes
//! (issue 6) land here. The crate exists so the workspace layout is final.
