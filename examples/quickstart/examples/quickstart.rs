//! `cargo run --example quickstart`: offline, no accounts, about ten
//! seconds. See `src/lib.rs` for what it does and `src/tour.rs` for the
//! calls.

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    wharf_quickstart::narrate::show_wharf_events();
    match wharf_quickstart::run().await {
        Ok(summary) => {
            summary.print();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
