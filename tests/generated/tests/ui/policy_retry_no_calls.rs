// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: a retry needs a plan, or the endpoints it calls so wharf can check.
#[wharf::policy(timeout = "2s", retry(max = 3))]
async fn pay(client: &api::Client, body: &api::NewTransfer) {
    let _ = client.create_transfer(body, Default::default()).await;
}

fn main() {}
