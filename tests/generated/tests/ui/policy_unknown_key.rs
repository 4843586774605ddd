// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: unknown keys are errors, not ignored.
#[wharf::policy(timeout = "2s", retries = 3, calls = [GET_ACCOUNT])]
async fn read(client: &api::Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
