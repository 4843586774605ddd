//! OAuth 2.0 that lives with tokens: provider profiles (quirks as data),
//! token requests, and tokens held in `secrecy` boxes end to end.

mod profile;
mod request;
mod token;

pub use profile::{
    parse_token_response, ClientAuth, ProviderProfile, ResponseContext, ScopeSeparator, TokenError,
};
pub use request::{
    authorization_url, endpoint_request, AuthorizationRequest, ClientCredentials, Param,
};
pub use token::TokenSet;
