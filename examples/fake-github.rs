//! A fake GitHub for trying sign-in locally, without a real OAuth App:
//!
//! ```sh
//! cargo run --example fake-github            # listens on 127.0.0.1:9090
//! AGORA_GITHUB_CLIENT_ID=fake-client AGORA_GITHUB_CLIENT_SECRET=fake-secret \
//! AGORA_GITHUB_URL=http://127.0.0.1:9090 AGORA_GITHUB_API_URL=http://127.0.0.1:9090 \
//! cargo run --release
//! ```
//!
//! It is the same fake the tests use (`tests/api/fake_github.rs`); at its authorize
//! page you choose which of its users signs in, or deny access.

#[path = "../tests/api/fake_github.rs"]
mod fake_github;

use fake_github::{FakeEmail, FakeGithub, FakeUser};

#[actix_web::main]
async fn main() {
    let address = std::env::var("FAKE_GITHUB_ADDR").unwrap_or_else(|_| "127.0.0.1:9090".into());
    let github = FakeGithub::start_on(&address, "fake-client", "fake-secret").await;
    github.add_user(FakeUser::new(583231, "octocat", Some("Mona Lisa Octocat")));
    github.add_user(FakeUser::new(2, "hubot", None));
    let mut unverified = FakeUser::new(3, "unverified", Some("No Verified Address"));
    unverified.emails = vec![FakeEmail { email: "unverified@example.com".into(), primary: true, verified: false }];
    github.add_user(unverified);

    println!("Fake GitHub listening on {}", github.url);
    println!("Start Agora with:");
    println!(
        "  AGORA_GITHUB_CLIENT_ID=fake-client AGORA_GITHUB_CLIENT_SECRET=fake-secret \
         AGORA_GITHUB_URL={url} AGORA_GITHUB_API_URL={url} cargo run --release",
        url = github.url
    );
    std::future::pending::<()>().await;
}
