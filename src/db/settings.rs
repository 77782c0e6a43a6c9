//! Settings every instance shares, kept in the database.

use diesel::prelude::*;
use rand::RngCore;

use crate::db::schema::settings;
use crate::db::{DbConn, DbError};
use crate::per_backend;

/// The key that signs links (e.g. unsubscribe links). Made once, on first start, and
/// shared through the database so every instance signs and checks alike.
pub fn signing_key(conn: &mut DbConn) -> Result<Vec<u8>, DbError> {
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    let fresh: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
    let key = (settings::name.eq("signing_key"), settings::value.eq(&fresh));
    per_backend!(&mut *conn, |c| diesel::insert_into(settings::table).values(key).on_conflict_do_nothing().execute(c))?;
    let stored: String = settings::table.find("signing_key").select(settings::value).first(conn)?;
    Ok(stored.into_bytes())
}
