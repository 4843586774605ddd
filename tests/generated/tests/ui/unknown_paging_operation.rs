// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/responses.yaml", paging = { "listEventz" = link });
}

fn main() {}
