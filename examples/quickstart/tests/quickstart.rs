//! The quickstart's run, asserted: the figures it prints are what happened.

#[tokio::test(flavor = "current_thread")]
async fn the_quickstart_does_what_it_says() {
    let s = wharf_quickstart::run().await.expect("the quickstart runs");
    // Two 503s retried, a 429 waited out, a dropped create retried once.
    assert_eq!(s.requests, s.calls - s.fail_fast + 4, "{s:?}");
    assert_eq!(s.faults, 7);
    assert_eq!(s.fail_fast, 1);
    assert!(s.breaker_recovered);
    assert!(
        s.rate_limit_wait >= std::time::Duration::from_secs(1),
        "{s:?}"
    );
    assert_eq!((s.create_attempts, s.issues_created), (2, 1));
    assert_eq!(s.drift_reports, 3);
    assert_eq!((s.logins, s.refreshes), (1, 1));
    // The refresh came at 80% of the 4 s lifetime (jitter is off here),
    // before the token expired.
    let at = s.refreshed_after.expect("a refresh happened");
    assert!(
        (3.15..4.0).contains(&at.as_secs_f64()),
        "refreshed after {at:?}"
    );
}
