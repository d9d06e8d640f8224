//! SASL for a broker that has none: the front ([`crate::front`]) runs a new connection's
//! login the way a Kafka broker's authenticator does, then relays the connection to Tansu.
//!
//! Why: the pinned Tansu can require SCRAM (`--authentication`), but it can never let
//! anyone in. Its storage engines keep no SCRAM users (tansu-storage `dynostore.rs` at
//! v0.6.0: `upsert_user_scram_credential` returns Ok without storing, and
//! `user_scram_credential` is always None), and the binary has no other engine. So for a
//! login that succeeds, the users live here, made in the test from their passwords.
//!
//! The protocol follows apache/kafka `SaslServerAuthenticator`: before login only
//! ApiVersions (relayed to the broker) and SaslHandshake v1 are taken; then
//! SaslAuthenticate v0-v1 carries the mechanism's tokens (librdkafka 2.12 sends no higher
//! version: `rd_kafka_SaslAuthenticateRequest`). A refusal answers error 58
//! (SASL_AUTHENTICATION_FAILED) with Kafka's message and closes the connection; anything
//! else before login closes it too.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::scram::{Answer, Credential, Exchange, Hash};

const SASL_HANDSHAKE: i16 = 17;
const API_VERSIONS: i16 = 18;
const SASL_AUTHENTICATE: i16 = 36;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// The mechanisms the front takes, in the order it names them.
pub const MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// The users a front lets in, and who logged in with which mechanism.
#[derive(Debug, Default)]
pub struct Users {
    /// name -> (password for PLAIN, SCRAM-SHA-256 credential, SCRAM-SHA-512 credential).
    users: HashMap<String, (String, Credential, Credential)>,
    logins: Mutex<Vec<String>>,
}

impl Users {
    pub fn new(users: &[(String, String)]) -> Users {
        let users = users
            .iter()
            .map(|(name, password)| {
                let sha256 = Credential::new(Hash::Sha256, password);
                let sha512 = Credential::new(Hash::Sha512, password);
                (name.clone(), (password.clone(), sha256, sha512))
            })
            .collect();
        Users {
            users,
            logins: Mutex::default(),
        }
    }

    /// Each successful login so far, as `user/MECHANISM`, in order.
    pub fn logins(&self) -> Vec<String> {
        self.logins.lock().unwrap().clone()
    }

    fn scram(&self, hash: Hash, user: &str) -> Option<Credential> {
        let (_, sha256, sha512) = self.users.get(user)?;
        Some(match hash {
            Hash::Sha256 => sha256.clone(),
            Hash::Sha512 => sha512.clone(),
        })
    }

    /// PLAIN's one message: `authzid NUL user NUL password` (RFC 4616).
    fn plain(&self, token: &[u8]) -> Result<String, String> {
        let text = std::str::from_utf8(token).map_err(|_| "PLAIN token is not UTF-8")?;
        let [authzid, user, password] = text.split('\0').collect::<Vec<_>>()[..] else {
            return Err("not a PLAIN token".into());
        };
        if !authzid.is_empty() && authzid != user {
            return Err("an authorization id other than the user".into());
        }
        match self.users.get(user) {
            Some((expected, ..)) if expected == password => Ok(user.to_owned()),
            Some(_) => Err(format!("wrong password for {user}")),
            None => Err(format!("no user {user:?}")),
        }
    }
}

/// Runs the login of a new connection. Ok(true): a user logged in and the connection
/// may be relayed; Ok(false): refused (the refusal was sent) or not a SASL client.
pub async fn login<C, B>(client: &mut C, broker: &mut B, users: &Users) -> io::Result<bool>
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let mut session: Option<Session> = None;
    loop {
        let frame = read_frame(client).await?;
        let mut request = Reader(&frame);
        let (api_key, api_version, correlation_id) =
            (request.i16()?, request.i16()?, request.i32()?);
        request.string()?; // client_id
        match (api_key, &mut session) {
            (API_VERSIONS, None) => {
                write_frame(broker, &frame).await?;
                let versions = read_frame(broker).await?;
                write_frame(client, &versions).await?;
            }
            (SASL_HANDSHAKE, None) if api_version == 1 => {
                let started = Session::start(&request.string()?.unwrap_or_default());
                let error = if started.is_some() {
                    0
                } else {
                    UNSUPPORTED_SASL_MECHANISM
                };
                write_frame(client, &handshake_response(correlation_id, error)).await?;
                match started {
                    Some(started) => session = Some(started),
                    None => return Ok(false),
                }
            }
            (SASL_AUTHENTICATE, Some(session)) if api_version <= 1 => {
                let outcome = session.step(request.bytes()?, users);
                let answer = |error, message: Option<String>, token: &[u8]| {
                    authenticate_response(correlation_id, api_version, error, message, token)
                };
                let response = match &outcome {
                    Ok(Step::Continue(token)) => answer(0, None, token),
                    Ok(Step::LoggedIn { user, token }) => {
                        let login = format!("{user}/{}", session.mechanism());
                        users.logins.lock().unwrap().push(login);
                        answer(0, None, token)
                    }
                    // apache/kafka SaslServerAuthenticator.handleSaslToken: the client only
                    // hears this, never why (it could tell whether the user exists).
                    Err(_) => answer(
                        SASL_AUTHENTICATION_FAILED,
                        Some(format!(
                            "Authentication failed during authentication due to invalid \
                             credentials with SASL mechanism {}",
                            session.mechanism()
                        )),
                        &[],
                    ),
                };
                write_frame(client, &response).await?;
                match outcome {
                    Ok(Step::Continue(_)) => {}
                    Ok(Step::LoggedIn { .. }) => return Ok(true),
                    Err(why) => {
                        eprintln!("sasl front: refused a login: {why}");
                        return Ok(false);
                    }
                }
            }
            _ => return Ok(false),
        }
    }
}

/// A SaslHandshake v1 response: the error, then every mechanism the front takes.
fn handshake_response(correlation_id: i32, error: i16) -> Vec<u8> {
    let mut response = correlation_id.to_be_bytes().to_vec();
    response.extend(error.to_be_bytes());
    response.extend((MECHANISMS.len() as i32).to_be_bytes());
    for mechanism in MECHANISMS {
        put_string(&mut response, Some(mechanism));
    }
    response
}

/// A SaslAuthenticate v0 or v1 response (v1 adds the session lifetime: 0, no
/// re-authentication).
fn authenticate_response(
    correlation_id: i32,
    api_version: i16,
    error: i16,
    message: Option<String>,
    token: &[u8],
) -> Vec<u8> {
    let mut response = correlation_id.to_be_bytes().to_vec();
    response.extend(error.to_be_bytes());
    put_string(&mut response, message.as_deref());
    response.extend((token.len() as i32).to_be_bytes());
    response.extend(token);
    if api_version >= 1 {
        response.extend(0i64.to_be_bytes());
    }
    response
}

/// One connection's mechanism and where its exchange stands.
enum Session {
    Plain,
    Scram(Box<Exchange>),
}

/// What the server answers to one token.
enum Step {
    /// A challenge; the exchange goes on.
    Continue(Vec<u8>),
    /// `user` is in; `token` is the mechanism's last word (SCRAM's server-final).
    LoggedIn { user: String, token: Vec<u8> },
}

impl Session {
    fn start(name: &str) -> Option<Session> {
        Some(match name {
            "PLAIN" => Session::Plain,
            "SCRAM-SHA-256" => Session::Scram(Box::new(Exchange::new(Hash::Sha256))),
            "SCRAM-SHA-512" => Session::Scram(Box::new(Exchange::new(Hash::Sha512))),
            _ => return None,
        })
    }

    fn mechanism(&self) -> &'static str {
        match self {
            Session::Plain => "PLAIN",
            Session::Scram(exchange) => exchange.hash().mechanism(),
        }
    }

    fn step(&mut self, token: &[u8], users: &Users) -> Result<Step, String> {
        match self {
            Session::Plain => users.plain(token).map(|user| Step::LoggedIn {
                user,
                token: Vec::new(),
            }),
            Session::Scram(exchange) => {
                let hash = exchange.hash();
                let message = std::str::from_utf8(token).map_err(|_| "SCRAM token is not UTF-8")?;
                Ok(
                    match exchange.step(message, |user| users.scram(hash, user))? {
                        Answer::Challenge(server_first) => {
                            Step::Continue(server_first.into_bytes())
                        }
                        Answer::LoggedIn { server_final, user } => Step::LoggedIn {
                            user,
                            token: server_final.into_bytes(),
                        },
                    },
                )
            }
        }
    }
}

/// Reads one size-prefixed Kafka frame.
async fn read_frame(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<Vec<u8>> {
    let size = stream.read_i32().await?;
    let size = usize::try_from(size).map_err(|_| io::Error::other("negative frame size"))?;
    let mut frame = vec![0; size];
    stream.read_exact(&mut frame).await?;
    Ok(frame)
}

async fn write_frame(stream: &mut (impl AsyncWrite + Unpin), frame: &[u8]) -> io::Result<()> {
    stream.write_i32(frame.len() as i32).await?;
    stream.write_all(frame).await?;
    stream.flush().await
}

/// A Kafka STRING / NULLABLE_STRING: i16 length (-1: null), then UTF-8.
fn put_string(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => {
            out.extend((value.len() as i16).to_be_bytes());
            out.extend(value.as_bytes());
        }
        None => out.extend((-1i16).to_be_bytes()),
    }
}

/// Reads the fixed-size and length-prefixed fields of a non-flexible request.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "short request"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn string(&mut self) -> io::Result<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let text = self.take(len as usize)?;
        Ok(Some(String::from_utf8_lossy(text).into_owned()))
    }

    fn bytes(&mut self) -> io::Result<&'a [u8]> {
        let len = self.i32()?;
        self.take(usize::try_from(len).unwrap_or(0))
    }
}
