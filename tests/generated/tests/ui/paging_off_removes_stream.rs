// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!(
        "${WHARF_TEST_SPECS}/responses.yaml",
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
