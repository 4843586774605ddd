// Rule (generated policies): scopes must be listed by the spec.
mod api {
    wharf::generate!(
        "../../../../specs/policies.yaml",
        policies = { "getAccount" = { timeout = "1s", scopes = ["admin"] } },
    );
}

fn main() {}
