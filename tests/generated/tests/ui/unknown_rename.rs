// ${WHARF_TEST_SPECS} is the workspace's specs/ (tests/macro.rs sets it).
mod api {
    wharf::generate!("${WHARF_TEST_SPECS}/responses.yaml", rename = { "Pett" = "Animal" });
}

fn main() {}
