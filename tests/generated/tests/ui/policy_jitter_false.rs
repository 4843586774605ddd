// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: jitter cannot be turned off, however it is spelled (a keyword too).
#[wharf::policy(timeout = "2s", retry(max = 3, jitter = false), calls = [GET_ACCOUNT])]
async fn read(client: &api::Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
