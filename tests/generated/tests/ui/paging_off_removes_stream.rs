// Paths are relative to the crate trybuild makes: target/tests/trybuild/<crate>/.
mod api {
    wharf::generate!(
        "../../../../specs/responses.yaml",
        operations = ["listEvents"],
        paging = { "listEvents" = off },
    );
}

fn main() {
    fn uses(c: &api::Client) {
        let _ = c.list_events_stream(Default::default());
    }
    let _ = uses;
}
