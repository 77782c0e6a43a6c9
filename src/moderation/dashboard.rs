//! The dashboard: open flags, request deadlines and three server-rendered SVG charts.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use crate::auth::visitor::Visitor;
use crate::db::{now, DbConn, DbError};
use crate::web::errors::AppError;
use crate::web::{filters, render};
use crate::AppState;

/// One bar of a server-rendered SVG chart.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
}

pub struct Chart {
    pub title: &'static str,
    pub total: i64,
    pub max: i64,
    pub bars: Vec<Bar>,
}

const CHART_HEIGHT: i64 = 80;

fn chart(title: &'static str, counts: &[i64]) -> Chart {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let today = now() / 86400;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let height = n * CHART_HEIGHT / max;
            let day = (today - counts.len() as i64 + 1 + i as i64) * 86400;
            let date = filters::when(day, askama::NO_VALUES).unwrap_or_default();
            Bar {
                x: i as i64 * 10,
                y: CHART_HEIGHT - height,
                height,
                label: format!("{}: {n}", &date[..10.min(date.len())]),
            }
        })
        .collect();
    Chart { title, total: counts.iter().sum(), max, bars }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    visitor: Visitor,
    open_flags: i64,
    request_deadlines: Vec<i64>,
    charts: Vec<Chart>,
}

impl DashboardPage {
    fn days_left(&self, deadline: &i64) -> i64 {
        (deadline - now()).div_euclid(86400)
    }
}

pub(super) async fn dashboard(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let (open_flags, request_deadlines, [signups, posts, active]) = state
        .db
        .run(|c| -> Result<_, AppError> {
            Ok((
                super::flags::open_flag_count(c)?,
                super::privacy_requests::open_request_deadlines(c)?,
                daily_counts(c, 30)?,
            ))
        })
        .await?;
    let charts = vec![
        chart("Sign-ups, last 30 days", &signups),
        chart("Posts, last 30 days", &posts),
        chart("Members who posted, per day", &active),
    ];
    render(&DashboardPage { visitor, open_flags, request_deadlines, charts })
}

/// Daily counts over the last `days` days: (day index from the oldest, count).
pub fn daily_counts(conn: &mut DbConn, days: i64) -> Result<[Vec<i64>; 3], DbError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Day {
        #[diesel(sql_type = BigInt)]
        day: i64,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let today = now() / 86400;
    let since = (today - days + 1) * 86400;
    let queries = [
        format!("SELECT created_at / 86400 AS day, COUNT(*) AS n FROM users WHERE role <> 'system' AND created_at >= {since} GROUP BY created_at / 86400"),
        format!("SELECT created_at / 86400 AS day, COUNT(*) AS n FROM posts WHERE created_at >= {since} GROUP BY created_at / 86400"),
        format!("SELECT created_at / 86400 AS day, COUNT(DISTINCT user_id) AS n FROM posts WHERE created_at >= {since} GROUP BY created_at / 86400"),
    ];
    let mut series: [Vec<i64>; 3] = Default::default();
    for (i, sql) in queries.iter().enumerate() {
        let rows: Vec<Day> = diesel::sql_query(sql).load(conn)?;
        let mut counts = vec![0; days as usize];
        for row in rows {
            let index = row.day - (today - days + 1);
            if (0..days).contains(&index) {
                counts[index as usize] = row.n;
            }
        }
        series[i] = counts;
    }
    Ok(series)
}
