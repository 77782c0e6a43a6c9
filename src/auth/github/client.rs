//! Talking to GitHub: the OAuth 2.0 authorization-code flow with PKCE, the two API
//! calls the policy needs (`/user`, `/user/emails`), and the profile picture.
//! Base URLs come from configuration, so GitHub Enterprise and the tests' fake work alike.

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;

use crate::config::GithubConfig;

pub const AVATAR_MAX_BYTES: usize = 1024 * 1024;

/// Why a call to GitHub did not give us what we need.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub said no: a used or expired code, bad credentials, a 4xx.
    #[error("GitHub refused: {0}")]
    Refused(String),
    /// GitHub could not be reached in time, or answered with a server error.
    #[error("GitHub is unavailable: {0}")]
    Unavailable(String),
    /// GitHub answered something that is not what its API documents.
    #[error("GitHub sent an unexpected answer: {0}")]
    Malformed(String),
}

/// Where to send the browser, and what to keep (server-side) to finish the flow.
pub struct AuthorizeRedirect {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
}

/// The fields the privacy policy lets us keep, and nothing else.
#[derive(Debug, Clone)]
pub struct GithubProfile {
    pub id: i64,
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The primary address, only when GitHub has verified it.
    pub verified_email: Option<String>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Avatar {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Deserialize)]
struct ApiUser {
    id: i64,
    login: String,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct ApiEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// An error from the token endpoint's transport, before any JSON is read.
#[derive(Debug, thiserror::Error)]
enum TransportError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("status {0}")]
    ServerError(u16),
    #[error("{0}")]
    Build(#[from] oauth2::http::Error),
}

pub struct GithubClient {
    config: GithubConfig,
    redirect_uri: String,
    /// For OAuth and API calls: never follows redirects (a redirected token request
    /// could carry the secret elsewhere).
    api: reqwest::Client,
    /// For pictures, which CDNs may redirect.
    images: reqwest::Client,
}

impl GithubClient {
    pub fn new(config: GithubConfig, public_url: &str) -> anyhow::Result<Self> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(config.timeout)
                .connect_timeout(config.timeout.min(Duration::from_secs(5)))
                .user_agent(concat!("Agora/", env!("CARGO_PKG_VERSION")))
        };
        Ok(GithubClient {
            redirect_uri: format!("{public_url}/auth/github/callback"),
            api: builder().redirect(reqwest::redirect::Policy::none()).build()?,
            images: builder().redirect(reqwest::redirect::Policy::limited(3)).build()?,
            config,
        })
    }

    fn oauth(
        &self,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        GithubError,
    > {
        let bad_url = |e: oauth2::url::ParseError| GithubError::Malformed(format!("configured URL: {e}"));
        Ok(BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.config.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(format!("{}/login/oauth/authorize", self.config.web_url)).map_err(bad_url)?)
            .set_token_uri(TokenUrl::new(format!("{}/login/oauth/access_token", self.config.web_url)).map_err(bad_url)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(bad_url)?))
    }

    /// The authorize URL with a fresh random `state` and a PKCE S256 challenge.
    pub fn authorize(&self) -> Result<AuthorizeRedirect, GithubError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth()?
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read:user".into()))
            .add_scope(Scope::new("user:email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizeRedirect {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the one-time code for an access token (returned, never stored).
    pub async fn exchange_code(&self, code: &str, pkce_verifier: &str) -> Result<String, GithubError> {
        let http = self.api.clone();
        // Our own transport so that a 5xx is "unavailable", not a JSON parse failure.
        let send = move |request: oauth2::HttpRequest| {
            let http = http.clone();
            async move {
                let (parts, body) = request.into_parts();
                let response =
                    http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
                if response.status().is_server_error() {
                    return Err(TransportError::ServerError(response.status().as_u16()));
                }
                let mut builder = oauth2::http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    builder = builder.header(name, value);
                }
                let body = response.bytes().await?.to_vec();
                Ok::<_, TransportError>(builder.body(body)?)
            }
        };
        let result = self
            .oauth()?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&send)
            .await;
        match result {
            Ok(token) => Ok(token.access_token().secret().clone()),
            Err(RequestTokenError::ServerResponse(e)) => Err(GithubError::Refused(e.error().to_string())),
            Err(RequestTokenError::Request(e)) => Err(GithubError::Unavailable(e.to_string())),
            // GitHub reports a bad code with HTTP 200 and an `error` field.
            Err(RequestTokenError::Parse(_, body)) => match serde_json::from_slice::<GithubTokenError>(&body) {
                Ok(e) => Err(GithubError::Refused(e.error)),
                Err(_) => Err(GithubError::Malformed("token response".into())),
            },
            Err(RequestTokenError::Other(e)) => Err(GithubError::Malformed(e)),
        }
    }

    async fn api_get<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, GithubError> {
        let response = self
            .api
            .get(format!("{}{path}", self.config.api_url))
            .bearer_auth(token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .map_err(|e| GithubError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(GithubError::Unavailable(format!("{path} answered {status}")));
        }
        if !status.is_success() {
            return Err(GithubError::Refused(format!("{path} answered {status}")));
        }
        let body = response.bytes().await.map_err(|e| GithubError::Unavailable(e.to_string()))?;
        serde_json::from_slice(&body).map_err(|e| GithubError::Malformed(format!("{path}: {e}")))
    }

    /// Reads the member's profile and e-mail addresses with the token.
    pub async fn profile(&self, token: &str) -> Result<GithubProfile, GithubError> {
        let user: ApiUser = self.api_get("/user", token).await?;
        let emails: Vec<ApiEmail> = self.api_get("/user/emails", token).await?;
        let verified_email = emails.into_iter().find(|e| e.primary && e.verified).map(|e| e.email);
        let (first_name, last_name) = split_name(user.name.as_deref());
        Ok(GithubProfile {
            id: user.id,
            login: user.login,
            first_name,
            last_name,
            verified_email,
            avatar_url: user.avatar_url,
        })
    }

    /// Downloads a profile picture: at most 1 MiB, and only PNG, JPEG, GIF or WebP as
    /// recognised from the bytes themselves (never from what the server claims).
    pub async fn avatar(&self, url: &str) -> Result<Avatar, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("not a web address: {url}"));
        }
        let mut response = self.images.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n > AVATAR_MAX_BYTES as u64) {
            return Err("larger than 1 MiB".into());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > AVATAR_MAX_BYTES {
                return Err("larger than 1 MiB".into());
            }
        }
        let content_type = sniff_image(&bytes).ok_or("not a PNG, JPEG, GIF or WebP image")?;
        Ok(Avatar { content_type, bytes })
    }
}

#[derive(Deserialize)]
struct GithubTokenError {
    error: String,
}

/// The image type from the file's first bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// GitHub has one free-form `name`. The last word is the last name and everything
/// before it the first name; a single word is a first name; no name leaves both empty.
pub fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let name = crate::text::strip_misleading(name.unwrap_or(""));
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => (None, None),
        [only] => (Some(only.to_string()), None),
        [first @ .., last] => (Some(first.join(" ")), Some(last.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_word() {
        assert_eq!(split_name(Some("Ada Lovelace")), (Some("Ada".into()), Some("Lovelace".into())));
        assert_eq!(split_name(Some("  Mary  Jane Watson ")), (Some("Mary Jane".into()), Some("Watson".into())));
        assert_eq!(split_name(Some("Prince")), (Some("Prince".into()), None));
        assert_eq!(split_name(Some("   ")), (None, None));
        assert_eq!(split_name(None), (None, None));
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg xmlns=...>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
