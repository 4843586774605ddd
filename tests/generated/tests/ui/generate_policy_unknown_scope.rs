// Rule (generated policies): scopes must be listed by the spec.
mod api {
    wharf::generate!(
        "${WHARF_TEST_SPECS}/policies.yaml",
        policies = { "getAccount" = { timeout = "1s", scopes = ["admin"] } },
    );
}

fn main() {}
