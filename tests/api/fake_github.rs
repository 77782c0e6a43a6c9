//! A stand-in for github.com and api.github.com, speaking GitHub's wire format:
//! the authorize redirect, the token endpoint (JSON when asked with
//! `Accept: application/json`, errors as HTTP 200 with an `error` field), and
//! `GET /user` and `GET /user/emails` with GitHub's field names. It checks what
//! GitHub checks: client id and secret, the redirect URI, one-time codes, PKCE.
//!
//! Used by the tests, and by `cargo run --example fake-github` to try sign-in locally.

#![allow(dead_code)] // the example uses a different part of it than the tests do

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct FakeEmail {
    pub email: String,
    pub primary: bool,
    pub verified: bool,
}

#[derive(Clone)]
pub struct FakeUser {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub emails: Vec<FakeEmail>,
    /// The picture's bytes and the Content-Type the server claims for them.
    pub avatar: Option<(String, Vec<u8>)>,
}

impl FakeUser {
    /// A user with a verified primary e-mail and a small PNG picture.
    pub fn new(id: i64, login: &str, name: Option<&str>) -> Self {
        FakeUser {
            id,
            login: login.into(),
            name: name.map(str::to_string),
            emails: vec![
                FakeEmail {
                    email: format!("{}@users.example.com", login.to_lowercase()),
                    primary: true,
                    verified: true,
                },
                FakeEmail {
                    email: format!("{}-old@example.com", login.to_lowercase()),
                    primary: false,
                    verified: false,
                },
            ],
            avatar: Some(("image/png".into(), tiny_png(id as u8))),
        }
    }
}

/// A valid 8×8 grey PNG whose shade depends on `shade`, so tests can tell pictures
/// apart and a browser can draw it.
pub fn tiny_png(shade: u8) -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    const SIDE: usize = 8;
    // Each row: filter byte 0, then SIDE grey pixels.
    let raw: Vec<u8> = (0..SIDE).flat_map(|_| std::iter::once(0).chain(std::iter::repeat_n(shade, SIDE))).collect();
    // zlib with one stored (uncompressed) block, then the Adler-32 of the data.
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&(SIDE as u32).to_be_bytes());
    header.extend_from_slice(&(SIDE as u32).to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// What the fake should get wrong, to test how Agora copes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Failure {
    None,
    TokenEndpointServerError,
    ApiServerError,
    SlowApi(Duration),
    MalformedUserJson,
}

struct IssuedCode {
    user_id: i64,
    redirect_uri: String,
    code_challenge: String,
    used: bool,
}

struct FakeState {
    client_id: String,
    client_secret: String,
    callback_url: Option<String>,
    users: HashMap<i64, FakeUser>,
    /// Who approves at the authorize page; `None` shows a page to choose.
    signed_in_as: Option<i64>,
    deny_next: bool,
    failure: Failure,
    codes: HashMap<String, IssuedCode>,
    tokens: HashMap<String, i64>,
    next_serial: u64,
}

pub struct FakeGithub {
    pub url: String,
    state: web::Data<Mutex<FakeState>>,
}

impl FakeGithub {
    pub async fn start(client_id: &str, client_secret: &str) -> FakeGithub {
        Self::start_on("127.0.0.1:0", client_id, client_secret).await
    }

    pub async fn start_on(address: &str, client_id: &str, client_secret: &str) -> FakeGithub {
        let state = web::Data::new(Mutex::new(FakeState {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            callback_url: None,
            users: HashMap::new(),
            signed_in_as: None,
            deny_next: false,
            failure: Failure::None,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            next_serial: 1,
        }));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/login/oauth/authorize", web::get().to(authorize))
                .route("/login/oauth/authorize/approve", web::get().to(approve))
                .route("/login/oauth/access_token", web::post().to(access_token))
                .route("/user", web::get().to(user))
                .route("/user/emails", web::get().to(emails))
                .route("/avatars/u/{id}", web::get().to(avatar))
        })
        .workers(1)
        .bind(address)
        .expect("fake GitHub binds");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        FakeGithub { url: format!("http://127.0.0.1:{port}"), state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The OAuth App's registered callback; authorize requests must match it.
    pub fn set_callback(&self, url: &str) {
        self.with(|s| s.callback_url = Some(url.to_string()));
    }

    pub fn add_user(&self, user: FakeUser) {
        self.with(|s| s.users.insert(user.id, user));
    }

    pub fn update_user(&self, id: i64, change: impl FnOnce(&mut FakeUser)) {
        self.with(|s| change(s.users.get_mut(&id).expect("known fake user")));
    }

    pub fn sign_in_as(&self, id: i64) {
        self.with(|s| s.signed_in_as = Some(id));
    }

    pub fn deny_next(&self) {
        self.with(|s| s.deny_next = true);
    }

    pub fn fail_with(&self, failure: Failure) {
        self.with(|s| s.failure = failure);
    }

    pub fn tokens_issued(&self) -> Vec<String> {
        self.with(|s| s.tokens.keys().cloned().collect())
    }
}

type Shared = web::Data<Mutex<FakeState>>;

#[derive(Deserialize, Clone)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    #[serde(rename = "as")]
    approve_as: Option<i64>,
}

fn redirect(location: String) -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", location)).finish()
}

/// Percent-encodes a query value.
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks the request as GitHub does; `Err` is the page GitHub would show instead.
fn check_authorize(state: &FakeState, q: &AuthorizeQuery) -> Result<String, Box<HttpResponse>> {
    if q.client_id.as_deref() != Some(state.client_id.as_str()) {
        return Err(Box::new(HttpResponse::NotFound().body("Not Found: unknown client_id")));
    }
    let redirect_uri = q.redirect_uri.clone().unwrap_or_default();
    if let Some(callback) = &state.callback_url {
        if !redirect_uri.starts_with(callback.as_str()) {
            return Err(Box::new(
                HttpResponse::BadRequest().body("The redirect_uri is not associated with this application."),
            ));
        }
    }
    let scopes: Vec<&str> = q.scope.as_deref().unwrap_or("").split([' ', ',']).collect();
    if !(scopes.contains(&"read:user") && scopes.contains(&"user:email")) {
        return Err(Box::new(HttpResponse::BadRequest().body("this fake expects the scopes read:user and user:email")));
    }
    if q.code_challenge_method.as_deref() != Some("S256") || q.code_challenge.is_none() {
        return Err(Box::new(HttpResponse::BadRequest().body("this fake expects a PKCE S256 challenge")));
    }
    Ok(redirect_uri)
}

async fn authorize(shared: Shared, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let q = query.into_inner();
    let chosen = {
        let state = shared.lock().unwrap();
        if let Err(page) = check_authorize(&state, &q) {
            return *page;
        }
        state.signed_in_as
    };
    match chosen {
        Some(id) => approve_as(&shared, &q, id),
        None => choose_page(&shared, &q),
    }
}

/// Without a preset user, a page to pick who signs in (for trying it by hand).
fn choose_page(shared: &Shared, q: &AuthorizeQuery) -> HttpResponse {
    let state = shared.lock().unwrap();
    let mut users: Vec<&FakeUser> = state.users.values().collect();
    users.sort_by_key(|u| u.id);
    let base = format!(
        "/login/oauth/authorize/approve?client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
        enc(q.client_id.as_deref().unwrap_or("")),
        enc(q.redirect_uri.as_deref().unwrap_or("")),
        enc(q.scope.as_deref().unwrap_or("")),
        enc(q.state.as_deref().unwrap_or("")),
        enc(q.code_challenge.as_deref().unwrap_or("")),
    );
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fake GitHub: authorize</title></head>\
         <body><h1>Fake GitHub</h1><p>Authorize the forum to read your profile and e-mail addresses as:</p><ul>",
    );
    for user in users {
        html.push_str(&format!(
            "<li><a href=\"{base}&as={}\">{} ({})</a></li>",
            user.id,
            user.login,
            user.name.as_deref().unwrap_or("no name")
        ));
    }
    html.push_str(&format!("</ul><p><a href=\"{base}&as=0\">Cancel (deny access)</a></p></body></html>"));
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
}

async fn approve(shared: Shared, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let q = query.into_inner();
    if let Err(page) = check_authorize(&shared.lock().unwrap(), &q) {
        return *page;
    }
    match q.approve_as {
        Some(0) | None => {
            shared.lock().unwrap().deny_next = true;
            approve_as(&shared, &q, 0)
        }
        Some(id) => approve_as(&shared, &q, id),
    }
}

fn approve_as(shared: &Shared, q: &AuthorizeQuery, user_id: i64) -> HttpResponse {
    let mut state = shared.lock().unwrap();
    let redirect_uri = q.redirect_uri.clone().unwrap_or_default();
    let oauth_state = enc(q.state.as_deref().unwrap_or(""));
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    if std::mem::take(&mut state.deny_next) {
        return redirect(format!(
            "{redirect_uri}{separator}error=access_denied&error_description={}&error_uri={}&state={oauth_state}",
            enc("The user has denied your application access."),
            enc("https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied")
        ));
    }
    let code = format!("{:020x}", state.next_serial * 7_919 + 1_000_003);
    state.next_serial += 1;
    state.codes.insert(
        code.clone(),
        IssuedCode {
            user_id,
            redirect_uri: redirect_uri.clone(),
            code_challenge: q.code_challenge.clone().unwrap_or_default(),
            used: false,
        },
    );
    redirect(format!("{redirect_uri}{separator}code={code}&state={oauth_state}"))
}

#[derive(Deserialize)]
struct TokenForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// GitHub's token endpoint reports failures with HTTP 200 and an `error` field.
fn token_error(error: &str, description: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "error": error,
        "error_description": description,
        "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
    }))
}

/// Client credentials from HTTP Basic auth (URL-encoded inside, per RFC 6749) or the form.
fn client_credentials(req: &HttpRequest, form: &TokenForm) -> (String, String) {
    let basic = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    match basic {
        Some((id, secret)) => (decode(&id), decode(&secret)),
        None => (form.client_id.clone().unwrap_or_default(), form.client_secret.clone().unwrap_or_default()),
    }
}

async fn access_token(shared: Shared, req: HttpRequest, form: web::Form<TokenForm>) -> HttpResponse {
    let form = form.into_inner();
    let mut state = shared.lock().unwrap();
    if state.failure == Failure::TokenEndpointServerError {
        return HttpResponse::InternalServerError()
            .content_type("text/html")
            .body("<h1>500 Internal Server Error</h1>");
    }
    let (client_id, client_secret) = client_credentials(&req, &form);
    if client_id != state.client_id || client_secret != state.client_secret {
        return token_error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    let code = form.code.unwrap_or_default();
    let Some(issued) = state.codes.get_mut(&code) else {
        return token_error("bad_verification_code", "The code passed is incorrect or expired.");
    };
    if issued.used {
        return token_error("bad_verification_code", "The code passed is incorrect or expired.");
    }
    issued.used = true;
    if form.redirect_uri.as_deref() != Some(issued.redirect_uri.as_str()) {
        return token_error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    let verifier = form.code_verifier.unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != issued.code_challenge {
        return token_error("bad_verification_code", "The code_verifier does not match the code_challenge.");
    }
    let user_id = issued.user_id;
    let token = format!("gho_fake{:016x}{}", state.next_serial * 104_729, state.tokens.len());
    state.next_serial += 1;
    state.tokens.insert(token.clone(), user_id);
    let wants_json =
        req.headers().get("Accept").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if wants_json {
        HttpResponse::Ok().json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
    } else {
        HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(format!("access_token={token}&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer"))
    }
}

/// The user behind `Authorization: Bearer …` (or GitHub's older `token …`), or GitHub's 401.
async fn api_user(shared: &Shared, req: &HttpRequest) -> Result<FakeUser, Box<HttpResponse>> {
    let failure = shared.lock().unwrap().failure;
    if let Failure::SlowApi(delay) = failure {
        actix_web::rt::time::sleep(delay).await;
    }
    if failure == Failure::ApiServerError {
        return Err(Box::new(HttpResponse::InternalServerError().json(json!({"message": "Server Error"}))));
    }
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("token ")))
        .unwrap_or("");
    let state = shared.lock().unwrap();
    state.tokens.get(token).and_then(|id| state.users.get(id)).cloned().ok_or_else(|| {
        Box::new(HttpResponse::Unauthorized().json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
    })
}

async fn user(shared: Shared, req: HttpRequest) -> HttpResponse {
    let user = match api_user(&shared, &req).await {
        Ok(user) => user,
        Err(response) => return *response,
    };
    if shared.lock().unwrap().failure == Failure::MalformedUserJson {
        return HttpResponse::Ok().content_type("application/json; charset=utf-8").body("{\"login\": 42, \"id\":");
    }
    let host = req.connection_info().host().to_string();
    let public_email = user.emails.iter().find(|e| e.primary).map(|e| e.email.clone());
    HttpResponse::Ok().json(json!({
        "login": user.login,
        "id": user.id,
        "node_id": format!("MDQ6VXNlcj{}", user.id),
        "avatar_url": format!("http://{host}/avatars/u/{}?v=4", user.id),
        "gravatar_id": "",
        "url": format!("http://{host}/users/{}", user.login),
        "html_url": format!("http://{host}/{}", user.login),
        "type": "User",
        "site_admin": false,
        "name": user.name,
        "company": null,
        "blog": "",
        "location": "Somewhere",
        "email": public_email,
        "hireable": null,
        "bio": "A biography Agora must not store.",
        "twitter_username": null,
        "public_repos": 12,
        "public_gists": 1,
        "followers": 34,
        "following": 5,
        "created_at": "2015-03-04T05:06:07Z",
        "updated_at": "2026-10-01T08:09:10Z"
    }))
}

async fn emails(shared: Shared, req: HttpRequest) -> HttpResponse {
    match api_user(&shared, &req).await {
        Ok(user) => HttpResponse::Ok().json(
            user.emails
                .iter()
                .map(|e| json!({"email": e.email, "primary": e.primary, "verified": e.verified, "visibility": if e.primary { Some("public") } else { None }}))
                .collect::<Vec<_>>(),
        ),
        Err(response) => *response,
    }
}

async fn avatar(shared: Shared, path: web::Path<i64>) -> HttpResponse {
    let state = shared.lock().unwrap();
    match state.users.get(&path.into_inner()).and_then(|u| u.avatar.clone()) {
        Some((content_type, bytes)) => HttpResponse::Ok().content_type(content_type).body(bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
