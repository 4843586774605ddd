// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: a scope the spec does not list for the endpoints is refused.
#[wharf::policy(timeout = "2s", scopes = ["accounts:read", "accounts:admin"], calls = [GET_ACCOUNT])]
async fn read(client: &api::Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
