//! Every cookie Agora sets, in one list: the privacy policy's cookie table is made from
//! it, and a test compares the cookies any route sets with it.

/// The session cookie (auth::sessions).
pub const SESSION_COOKIE: &str = "agora_session";
/// The same cookie over https: `__Host-` makes browsers refuse it unless it is Secure,
/// for the whole site and set by this host, so no subdomain can plant a session.
pub const SECURE_SESSION_COOKIE: &str = "__Host-agora_session";

pub fn session_cookie(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// One cookie as the policy describes it.
#[derive(Debug, Clone, Copy)]
pub struct CookieInfo {
    /// The name over http; over https some carry the `__Host-` prefix (`secure_name`).
    pub name: &'static str,
    pub secure_name: &'static str,
    pub purpose: &'static str,
    pub lifetime: &'static str,
}

pub const ALL: &[CookieInfo] = &[
    CookieInfo {
        name: SESSION_COOKIE,
        secure_name: SECURE_SESSION_COOKIE,
        purpose: "keeps you signed in: a random token (we store only its hash)",
        lifetime: "until you close the browser (a day at most without a visit), or 30 days with \"keep me signed in\"; signing out ends it",
    },
    CookieInfo {
        name: crate::web::csrf::COOKIE,
        secure_name: crate::web::csrf::SECURE_COOKIE,
        purpose: "protects the sign-in and registration forms against forgery: a random value that identifies nobody",
        lifetime: "until you close the browser; replaced when you sign in or out",
    },
    CookieInfo {
        name: "agora_github_state",
        secure_name: "agora_github_state",
        purpose: "ties a sign-in with GitHub to the browser that started it",
        lifetime: "10 minutes, only while signing in with GitHub",
    },
    CookieInfo {
        name: "agora_github_signup",
        secure_name: "agora_github_signup",
        purpose: "remembers a new member's GitHub sign-in until they finish the consent page",
        lifetime: "30 minutes, only while joining with GitHub",
    },
];

/// Whether `name` is one of ours (under either of its names).
pub fn is_known(name: &str) -> bool {
    ALL.iter().any(|c| c.name == name || c.secure_name == name)
}

/// The policy's cookie table, as Markdown.
pub fn policy_table(secure: bool) -> String {
    let mut table = String::from("| cookie | what for | how long |\n| --- | --- | --- |\n");
    for cookie in ALL {
        let name = if secure { cookie.secure_name } else { cookie.name };
        table.push_str(&format!("| `{name}` | {} | {} |\n", cookie.purpose, cookie.lifetime));
    }
    table
}
