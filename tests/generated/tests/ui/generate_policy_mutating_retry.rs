// Rule (generated policies): a retried mutating operation needs a plan.
mod api {
    wharf::generate!(
        "${WHARF_TEST_SPECS}/policies.yaml",
        policies = { tag("money") = { retry(max = 3) } },
    );
}

fn main() {}
