//! Settings every instance shares, kept in the database.

use diesel::prelude::*;
use rand::RngCore;

use crate::db::schema::settings;
use crate::db::{DbConn, DbError};
use crate::with_conn;

/// The key that signs links (e.g. unsubscribe links). Made once, on first start, and
/// shared through the database so every instance signs and checks alike.
pub fn signing_key(conn: &mut DbConn) -> Result<Vec<u8>, DbError> {
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    let fresh: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
    let stored: String = with_conn!(conn, |c| {
        diesel::insert_into(settings::table)
            .values((settings::name.eq("signing_key"), settings::value.eq(&fresh)))
            .on_conflict_do_nothing()
            .execute(c)?;
        settings::table.find("signing_key").select(settings::value).first(c)
    })?;
    Ok(stored.into_bytes())
}
