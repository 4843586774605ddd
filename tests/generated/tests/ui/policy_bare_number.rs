// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/policies.yaml");
}
use api::Client;

// A bare number: the message says how to write a duration. The function
// is kept, so its imports stay used: no warnings beside the one error.
#[wharf::policy(timeout = 2)]
async fn read(client: &Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
