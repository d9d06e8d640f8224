//! The server side of SCRAM (RFC 5802; SHA-256 and SHA-512 as RFC 7677 and Kafka's KIP-84
//! use them), for the SASL front ([`crate::sasl`]). It keeps each user's salted credential,
//! not the password, and checks the client's proof the way a Kafka broker does (apache/kafka
//! `ScramSaslServer.evaluateResponse` and `verifyClientProof`); the client checks the
//! server's signature in turn, so a login only completes when both sides derived the same
//! keys from the same password.

use base64::prelude::{Engine, BASE64_STANDARD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// RFC 7677: "the hash iteration-count announced by a server SHOULD be at least 4096"
/// (also Kafka's minimum for both mechanisms).
const ITERATIONS: u32 = 4096;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    pub fn mechanism(self) -> &'static str {
        match self {
            Hash::Sha256 => "SCRAM-SHA-256",
            Hash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Hash::Sha256 => mac::<Hmac<Sha256>>(key, data),
            Hash::Sha512 => mac::<Hmac<Sha512>>(key, data),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// RFC 5802 `Hi(password, salt, i)`: PBKDF2 with this hash's HMAC.
    fn salted_password(self, password: &str, salt: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => {
                pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password.as_bytes(), salt, ITERATIONS)
                    .to_vec()
            }
            Hash::Sha512 => {
                pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(password.as_bytes(), salt, ITERATIONS)
                    .to_vec()
            }
        }
    }
}

/// What a broker stores for one user and mechanism (RFC 5802 section 3; Kafka's
/// `ScramCredential`): the password itself is not kept.
#[derive(Debug, Clone)]
pub struct Credential {
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl Credential {
    /// A credential with a random salt.
    pub fn new(hash: Hash, password: &str) -> Credential {
        Credential::with_salt(hash, password, rand::random::<[u8; 16]>().to_vec())
    }

    fn with_salt(hash: Hash, password: &str, salt: Vec<u8>) -> Credential {
        let salted = hash.salted_password(password, &salt);
        let client_key = hash.hmac(&salted, b"Client Key");
        Credential {
            stored_key: hash.digest(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
            salt,
        }
    }
}

/// Why a login was refused. The client only ever hears Kafka's generic message
/// ([`crate::sasl`]); this is for the test's own diagnostics.
pub type Refusal = String;

/// One SCRAM exchange, server side: client-first -> server-first, then client-final ->
/// server-final.
#[derive(Debug)]
pub struct Exchange {
    hash: Hash,
    /// The server's half of the nonce.
    server_nonce: String,
    state: State,
}

#[derive(Debug)]
enum State {
    AwaitingClientFirst,
    AwaitingClientFinal {
        user: String,
        credential: Credential,
        gs2_header: String,
        client_first_bare: String,
        server_first: String,
        nonce: String,
    },
    Done,
}

/// What the server answers to one client message.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The server-first message; the exchange goes on.
    Challenge(String),
    /// The server-final message: `user` proved the password.
    LoggedIn { server_final: String, user: String },
}

impl Exchange {
    pub fn new(hash: Hash) -> Exchange {
        Exchange::with_nonce(hash, BASE64_STANDARD.encode(rand::random::<[u8; 18]>()))
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }

    fn with_nonce(hash: Hash, server_nonce: String) -> Exchange {
        Exchange {
            hash,
            server_nonce,
            state: State::AwaitingClientFirst,
        }
    }

    /// Takes the client's next message; `credential` looks a user up.
    pub fn step(
        &mut self,
        message: &str,
        credential: impl Fn(&str) -> Option<Credential>,
    ) -> Result<Answer, Refusal> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitingClientFirst => {
                let (server_first, next) = self.client_first(message, credential)?;
                self.state = next;
                Ok(Answer::Challenge(server_first))
            }
            State::AwaitingClientFinal {
                user,
                credential,
                gs2_header,
                client_first_bare,
                server_first,
                nonce,
            } => {
                let (without_proof, proof) = message
                    .rsplit_once(",p=")
                    .ok_or("client-final without a proof")?;
                let binding = attribute(without_proof, 'c').ok_or("client-final without c=")?;
                if BASE64_STANDARD.decode(binding).ok() != Some(gs2_header.into_bytes()) {
                    return Err("channel binding differs from the client-first's".into());
                }
                if attribute(without_proof, 'r') != Some(nonce.as_str()) {
                    return Err("the nonce in client-final is not the server's".into());
                }
                let proof = BASE64_STANDARD
                    .decode(proof)
                    .map_err(|_| "the proof is not base64")?;
                let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
                let signature = self
                    .hash
                    .hmac(&credential.stored_key, auth_message.as_bytes());
                if proof.len() != signature.len() {
                    return Err("the proof has the wrong length".into());
                }
                let client_key: Vec<u8> =
                    proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
                let stored_key = self.hash.digest(&client_key);
                if !bool::from(stored_key.ct_eq(&credential.stored_key)) {
                    return Err(format!("wrong password for {user}"));
                }
                let server_signature = self
                    .hash
                    .hmac(&credential.server_key, auth_message.as_bytes());
                Ok(Answer::LoggedIn {
                    server_final: format!("v={}", BASE64_STANDARD.encode(server_signature)),
                    user,
                })
            }
            State::Done => Err("the exchange is over".into()),
        }
    }

    /// `gs2-header client-first-bare` -> `r=<client nonce + server nonce>,s=<salt>,i=<n>`.
    fn client_first(
        &self,
        message: &str,
        credential: impl Fn(&str) -> Option<Credential>,
    ) -> Result<(String, State), Refusal> {
        // gs2-header = cbind-flag "," [ "a=" authzid ] ","; this server binds no channel.
        let mut parts = message.splitn(3, ',');
        let (flag, authzid, client_first_bare) = match (parts.next(), parts.next(), parts.next()) {
            (Some(flag @ ("n" | "y")), Some(authzid), Some(bare)) => (flag, authzid, bare),
            _ => return Err(format!("not a client-first message: {message:?}")),
        };
        let user = attribute(client_first_bare, 'n')
            .ok_or("client-first without n=")?
            .replace("=2C", ",")
            .replace("=3D", "=");
        let client_nonce = attribute(client_first_bare, 'r').ok_or("client-first without r=")?;
        if !authzid.is_empty() && authzid != format!("a={user}") {
            return Err("an authorization id other than the user".into());
        }
        let credential = credential(&user).ok_or_else(|| format!("no user {user:?}"))?;
        let nonce = format!("{client_nonce}{}", self.server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={ITERATIONS}",
            BASE64_STANDARD.encode(&credential.salt)
        );
        let state = State::AwaitingClientFinal {
            user,
            credential,
            gs2_header: format!("{flag},{authzid},"),
            client_first_bare: client_first_bare.to_owned(),
            server_first: server_first.clone(),
            nonce,
        };
        Ok((server_first, state))
    }
}

/// The value of `key=` in a comma-separated SCRAM message.
fn attribute(message: &str, key: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(key) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SCRAM-SHA-256 example of RFC 7677 section 3: user "user", password "pencil".
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    /// RFC 7677's exchange, up to the server's challenge; `password` is what the server
    /// stored for "user".
    fn rfc_exchange(password: &str) -> (Exchange, impl Fn(&str) -> Option<Credential>) {
        let salt = BASE64_STANDARD.decode(SALT).unwrap();
        let credential = Credential::with_salt(Hash::Sha256, password, salt);
        let lookup = move |user: &str| (user == "user").then(|| credential.clone());
        let mut exchange = Exchange::with_nonce(Hash::Sha256, SERVER_NONCE.into());
        assert_eq!(
            exchange.step(CLIENT_FIRST, &lookup),
            Ok(Answer::Challenge(SERVER_FIRST.into()))
        );
        (exchange, lookup)
    }

    #[test]
    fn the_server_answers_rfc_7677s_example_word_for_word() {
        let (mut exchange, lookup) = rfc_exchange("pencil");
        assert_eq!(
            exchange.step(CLIENT_FINAL, lookup),
            Ok(Answer::LoggedIn {
                server_final: SERVER_FINAL.into(),
                user: "user".into()
            })
        );
    }

    #[test]
    fn a_proof_made_from_another_password_is_refused() {
        let (mut exchange, lookup) = rfc_exchange("pencil2");
        assert_eq!(
            exchange.step(CLIENT_FINAL, lookup),
            Err("wrong password for user".into())
        );
    }

    #[test]
    fn an_unknown_user_a_foreign_nonce_or_a_replay_is_refused() {
        let credential = Credential::new(Hash::Sha512, "pencil");
        let lookup = |user: &str| (user == "user").then(|| credential.clone());
        let mut exchange = Exchange::new(Hash::Sha512);
        assert_eq!(
            exchange.step("n,,n=bob,r=abc", lookup),
            Err("no user \"bob\"".into())
        );
        let mut exchange = Exchange::new(Hash::Sha512);
        exchange.step("n,,n=user,r=abc", lookup).unwrap();
        assert_eq!(
            exchange.step("c=biws,r=abc,p=AAAA", lookup),
            Err("the nonce in client-final is not the server's".into())
        );
        assert_eq!(
            exchange.step(CLIENT_FINAL, lookup),
            Err("the exchange is over".into())
        );
    }
}
