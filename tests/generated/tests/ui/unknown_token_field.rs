// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!(
        "${WHARF_TEST_SPECS}/responses.yaml",
        paging = { "listEvents" = token("page_token", "next_token") }
    );
}

fn main() {}
