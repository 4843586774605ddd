// Paths are relative to the crate trybuild makes: target/tests/trybuild/<crate>/.
mod api {
    wharf::generate!("../../../../specs/policies.yaml");
}
#[allow(unused_imports)]
use api::operations::*;

// Rule: every call path has a timeout.
#[wharf::policy(retry = none)]
async fn read(client: &api::Client) {
    let _ = client.get_account("a", Default::default()).await;
}

fn main() {}
