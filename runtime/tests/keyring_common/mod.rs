//! What both keyring tests store: tokens full of canaries, with an ID
//! token of any length (long ones overflow to the encrypted file).

use secrecy::SecretString;
use std::time::{Duration, SystemTime};
use wharf_runtime::auth::TokenSet;

pub fn tokens(id_token_len: usize) -> TokenSet {
    TokenSet {
        access_token: SecretString::from("CANARY-ACCESS".to_owned()),
        refresh_token: Some(SecretString::from("CANARY-REFRESH".to_owned())),
        id_token: (id_token_len > 0)
            .then(|| SecretString::from(format!("CANARY-{}", "x".repeat(id_token_len)))),
        token_type: "Bearer".into(),
        issued_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        lifetime: Some(Duration::from_secs(3600)),
        scopes: ["repo".to_owned()].into(),
    }
}
