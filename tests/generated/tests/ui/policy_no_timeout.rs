// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: every call path has a timeout.
#[wharf::policy(retry = none)]
async fn read(client: &api::Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
