//! Who is asking: a signed-in member or an anonymous reader, plus the CSRF token
//! their page's forms must carry. Every page template gets one.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::auth::sessions::{self, SessionUser};
use crate::web::errors::AppError;
use crate::web::LocalBoxFuture;
use crate::AppState;

#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: Option<SessionUser>,
    pub csrf_token: String,
    /// The path and query of this request, for "sign in and come back here" links.
    pub path: String,
    /// A published privacy-policy change not yet in effect: its version and date.
    pub policy_change: Option<(String, i64)>,
    /// The forum's public address (`AGORA_PUBLIC_URL`), for absolute links in pages.
    pub public_url: std::sync::Arc<str>,
    /// The forum's name, description, contact and logo (`/admin/settings`).
    pub site: std::sync::Arc<crate::web::site::SiteIdentity>,
}

impl Visitor {
    /// The signed-in member, or a redirect to the sign-in page that returns here.
    pub fn member(&self) -> Result<&SessionUser, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::SignInRequired { next: self.path.clone() })
    }

    /// The signed-in member, if they may write (not banned or suspended).
    pub fn active_member(&self) -> Result<&SessionUser, AppError> {
        let member = self.member()?;
        match &member.restriction {
            Some(why) => Err(AppError::Forbidden(why.clone())),
            None => Ok(member),
        }
    }

    /// A moderator or admin in good standing; members get a 403 page, visitors the
    /// sign-in page. A banned or suspended moderator has no powers until it is lifted.
    pub fn staff(&self) -> Result<&SessionUser, AppError> {
        let member = self.member()?;
        if !member.is_staff() {
            return Err(AppError::Forbidden("This page is for the forum's moderators.".into()));
        }
        self.in_good_standing(member)
    }

    pub fn admin(&self) -> Result<&SessionUser, AppError> {
        let member = self.member()?;
        if !member.is_admin() {
            return Err(AppError::Forbidden("This page is for the forum's administrators.".into()));
        }
        self.in_good_standing(member)
    }

    /// Staff act while not banned or suspended, and, where the forum requires it of
    /// staff, once they sign in with two factors (else they are sent to set it up).
    fn in_good_standing<'m>(&self, member: &'m SessionUser) -> Result<&'m SessionUser, AppError> {
        if let Some(why) = &member.restriction {
            return Err(AppError::Forbidden(format!("{why} Staff powers are paused until it is lifted.")));
        }
        if self.site.staff_two_factor && !member.two_factor_on {
            return Err(AppError::SeeOther("/account/two-factor?staff=required".into()));
        }
        Ok(member)
    }

    /// Whether staff controls are shown (the handlers check again).
    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(SessionUser::has_staff_powers)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.user_id)
    }

    /// This page's `<link rel="canonical">`: the public address of its path, keeping only
    /// the query parameters that choose what is shown (a page number or a list's cursor,
    /// and on the search page its words), not a sign-in link's `next`, a tracker's tag or
    /// words someone put in a link to any other page.
    pub fn canonical_url(&self) -> String {
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let chooses_what_is_shown = |pair: &&str| {
            ["page=", "after=", "before="].iter().any(|kept| pair.starts_with(kept))
                || (path == "/search" && pair.starts_with("q="))
        };
        let kept: Vec<&str> = query.split('&').filter(chooses_what_is_shown).collect();
        let base = self.public_url.trim_end_matches('/');
        match kept.is_empty() {
            true => format!("{base}{path}"),
            false => format!("{base}{path}?{}", kept.join("&")),
        }
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let arrival = Arrival::of(req);
        Box::pin(async move {
            // Handlers may ask twice (e.g. page and form): look the session up once.
            if let Some(visitor) = arrival.req.extensions().get::<Visitor>() {
                return Ok(visitor.clone());
            }
            let found = match &arrival.token {
                Some(token) => {
                    let token = token.clone();
                    let state = app_state(&arrival.req)?;
                    state.db.read(move |conn| sessions::find(conn, &token)).await?
                }
                None => None,
            };
            arrival.visitor(found).await
        })
    }
}

/// A request whose session is not looked up yet. The busiest pages (home, Latest, a
/// category, a topic) look it up in their own database trip, with their rows: on
/// PostgreSQL each trip to the blocking pool and each statement is a round trip, and
/// a member's page made two trips where one will do. [`Arrival::visitor`] then makes
/// the [`Visitor`] from what that read found.
pub struct Arrival {
    req: HttpRequest,
    token: Option<String>,
}

impl Arrival {
    fn of(req: &HttpRequest) -> Self {
        let token = app_state(req)
            .ok()
            .and_then(|state| req.cookie(crate::web::cookies::session_cookie(state.config.secure_cookies())))
            .map(|cookie| cookie.value().to_string())
            .filter(|token| !token.is_empty());
        Arrival { req: req.clone(), token }
    }

    /// The session cookie's token, when the browser sent one.
    pub fn session_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The visitor, given the session [`sessions::find`] found for the token (`None`:
    /// signed out). The visit is recorded off the page's read, and only every few minutes.
    pub async fn visitor(&self, found: Option<sessions::Found>) -> Result<Visitor, AppError> {
        let state = app_state(&self.req)?;
        if let Some(touch) = found.as_ref().and_then(|found| found.touch) {
            state.db.run(move |conn| sessions::touch(conn, touch)).await?;
        }
        let user = found.map(|found| found.user);
        let req = &self.req;
        let path = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{}", req.path(), q),
        };
        let policy_change = state.upcoming_policy.get(&state.db).await;
        // Forms carry the session-bound token only for a session that exists.
        let csrf_token = crate::web::csrf::token_for(req, user.is_some());
        let public_url = state.public_url.clone();
        let site = state.site.get(&state.db).await?;
        let visitor = Visitor { user, csrf_token, path, policy_change, public_url, site };
        req.extensions_mut().insert(visitor.clone());
        Ok(visitor)
    }
}

impl FromRequest for Arrival {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Arrival::of(req)))
    }
}

fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, AppError> {
    Ok(req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?)
}
