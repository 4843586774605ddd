//! The `security_schemes` module: one constant per security scheme, for
//! setting up OAuth from the spec (`ServerMetadata::from_scheme`) and API
//! keys, basic and bearer auth (`SecurityScheme::authenticator`).

use super::docs::sanitize;
use super::{lit, Writer};
use crate::ir::SchemeDef;

pub(super) fn security_module(w: &mut Writer, schemes: &[SchemeDef]) {
    if schemes.is_empty() {
        return;
    }
    let opt = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "None".to_owned(), |s| format!("Some({})", lit(s)))
    };
    w.blank();
    w.line("/// The spec's security schemes: each OAuth flow's endpoints and scopes,");
    w.line("/// where an API key goes; `authenticator` makes the non-OAuth ones ready.");
    w.line(super::ALLOW_UNUSED_MODULE);
    w.open("pub mod security_schemes {");
    for s in schemes {
        w.doc(&sanitize(&format!(
            "`{}` ({})",
            s.name.replace('`', "'"),
            s.kind.replace('`', "'")
        )));
        w.open(&format!(
            "pub const {}: ::wharf::auth::SecurityScheme = ::wharf::auth::SecurityScheme {{",
            s.const_name
        ));
        w.line(&format!("name: {},", lit(&s.name)));
        w.line(&format!("kind: {},", lit(&s.kind)));
        w.line(&format!(
            "authorization_url: {},",
            opt(&s.authorization_url)
        ));
        w.line(&format!("token_url: {},", opt(&s.token_url)));
        w.line(&format!("refresh_url: {},", opt(&s.refresh_url)));
        w.line(&format!(
            "device_authorization_url: {},",
            opt(&s.device_authorization_url)
        ));
        w.line(&format!(
            "openid_connect_url: {},",
            opt(&s.openid_connect_url)
        ));
        let scopes: Vec<String> = s.scopes.iter().map(|x| lit(x)).collect();
        w.line(&format!("scopes: &[{}],", scopes.join(", ")));
        w.line(&format!("http_scheme: {},", opt(&s.http_scheme)));
        w.line(&format!("key_location: {},", opt(&s.key_location)));
        w.line(&format!("key_name: {},", opt(&s.key_name)));
        w.close("};");
        w.blank();
    }
    w.line("/// Every scheme of the spec.");
    let all: Vec<String> = schemes
        .iter()
        .map(|s| format!("&{}", s.const_name))
        .collect();
    w.line(&format!(
        "pub static ALL: &[&::wharf::auth::SecurityScheme] = &[{}];",
        all.join(", ")
    ));
    w.close("}");
}
