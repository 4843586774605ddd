// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: a retried mutating endpoint needs an idempotency plan.
#[wharf::policy(timeout = "2s", retry(max = 3), calls = [GET_ACCOUNT, CREATE_TRANSFER])]
async fn pay(client: &api::Client, body: &api::NewTransfer) {
    let _ = client.create_transfer(body, Default::default()).await;
}

fn main() {}
