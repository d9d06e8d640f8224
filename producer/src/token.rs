//! The bearer token that the HTTP API's changes need (`http.token`): read by the config,
//! checked by the API. Compared in constant time; `Debug` does not show it.

use std::sync::Arc;

use subtle::ConstantTimeEq;

/// The bearer token changes need. `Debug` does not show it.
#[derive(Clone)]
pub struct Token(Arc<str>);

impl Token {
    pub fn new(token: &str) -> Self {
        Self(Arc::from(token))
    }

    /// Whether `presented` is the token, compared in constant time (for equal lengths).
    pub fn matches(&self, presented: &str) -> bool {
        presented.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}
