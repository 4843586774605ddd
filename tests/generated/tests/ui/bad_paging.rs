// Paths are relative to the crate trybuild makes: target/tests/trybuild/<crate>/.
mod api {
    wharf::generate!("../../../../specs/responses.yaml", paging = { "listEvents" = pages(2) });
}

fn main() {}
