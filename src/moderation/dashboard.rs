//! The dashboard: open flags, request deadlines and three server-rendered SVG charts.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use crate::auth::visitor::Visitor;
use crate::db::schema::posts;
use crate::db::{now, DbConn, DbError};
use crate::web::errors::AppError;
use crate::web::{filters, render};
use crate::AppState;

/// One bar of a server-rendered SVG chart, in the chart's own units.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    /// The day and its count, shown when the bar is pointed at.
    pub label: String,
}

/// A date under the x axis: where it sits and which way its text runs from there.
pub struct AxisDate {
    pub x: i64,
    /// `start`, `middle` or `end`: the first date starts at the axis, the last ends at it.
    pub anchor: &'static str,
    pub label: String,
}

/// A bar chart of one count per day, drawn as inline SVG: bars, a y axis from 0 to the
/// highest day, and the first, middle and last dates under the x axis. Colours come from
/// the stylesheet's classes, so both colour schemes apply and the CSP holds.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    /// The figure the chart is about, in words ("12 in the last 30 days, …").
    pub summary: String,
    /// The top of the y axis: the highest day's count (at least 1).
    pub top: i64,
    pub bars: Vec<Bar>,
    pub dates: Vec<AxisDate>,
}

/// The chart's geometry, in SVG user units (the `viewBox` is `0 0 WIDTH HEIGHT`).
pub const WIDTH: i64 = 360;
pub const HEIGHT: i64 = 116;
/// The plot area: bars stand on `PLOT_BOTTOM` and reach up to `PLOT_TOP`, one
/// `BAR_STEP` apart from `PLOT_LEFT`; the y axis's numbers sit left of it.
pub const PLOT_LEFT: i64 = 40;
pub const PLOT_TOP: i64 = 10;
pub const PLOT_BOTTOM: i64 = 90;
const BAR_STEP: i64 = 10;

impl Chart {
    pub fn plot_right(&self) -> i64 {
        PLOT_LEFT + self.bars.len() as i64 * BAR_STEP
    }
}

/// A day (days since 1970-01-01) as the axis writes it: "Dec 4".
fn short_date(day: i64) -> String {
    let format = time::macros::format_description!("[month repr:short] [day padding:none]");
    time::OffsetDateTime::from_unix_timestamp(day * 86400).ok().and_then(|t| t.format(format).ok()).unwrap_or_default()
}

/// A chart of `counts`, one a day, the last one today's.
fn chart(id: &'static str, title: &'static str, summary: String, counts: &[i64]) -> Chart {
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let first_day = now() / 86400 - counts.len() as i64 + 1;
    let plot_height = PLOT_BOTTOM - PLOT_TOP;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let height = n * plot_height / top;
            Bar {
                x: PLOT_LEFT + i as i64 * BAR_STEP + 1,
                y: PLOT_BOTTOM - height,
                height,
                label: format!("{}: {n}", short_date(first_day + i as i64)),
            }
        })
        .collect();
    let last = counts.len().saturating_sub(1) as i64;
    let middle = last / 2;
    let bar_centre = |i: i64| PLOT_LEFT + i * BAR_STEP + BAR_STEP / 2;
    let dates = vec![
        AxisDate { x: PLOT_LEFT, anchor: "start", label: short_date(first_day) },
        AxisDate { x: bar_centre(middle), anchor: "middle", label: short_date(first_day + middle) },
        AxisDate { x: PLOT_LEFT + (last + 1) * BAR_STEP, anchor: "end", label: short_date(first_day + last) },
    ];
    Chart { id, title, summary, top, bars, dates }
}

/// How many days the charts cover.
const CHART_DAYS: i64 = 30;

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
    let (open_flags, request_deadlines, [signups, posts, active], posters) = state
        .db
        .run(|c| -> Result<_, AppError> {
            Ok((
                super::flags::open_flag_count(c)?,
                super::privacy_requests::open_request_deadlines(c)?,
                daily_counts(c, CHART_DAYS)?,
                members_who_posted(c, CHART_DAYS)?,
            ))
        })
        .await?;
    let busiest = |counts: &[i64]| counts.iter().copied().max().unwrap_or(0);
    let summed = |counts: &[i64]| {
        format!("{} in the last {CHART_DAYS} days, at most {} on one day", counts.iter().sum::<i64>(), busiest(counts))
    };
    let charts = vec![
        chart("signups", "Sign-ups per day", summed(&signups), &signups),
        chart("posts", "Posts per day", summed(&posts), &posts),
        // A member who posted on several days is one member: the figure is counted over
        // the whole period, not summed from the days.
        chart(
            "posters",
            "Members who posted, per day",
            format!(
                "{posters} different {} in the last {CHART_DAYS} days, at most {} on one day",
                if posters == 1 { "member" } else { "members" },
                busiest(&active)
            ),
            &active,
        ),
    ];
    render(&DashboardPage { visitor, open_flags, request_deadlines, charts })
}

/// How many different members posted in the last `days` days (today included).
pub fn members_who_posted(conn: &mut DbConn, days: i64) -> Result<i64, DbError> {
    let since = (now() / 86400 - days + 1) * 86400;
    Ok(posts::table
        .filter(posts::created_at.ge(since))
        .select(diesel::dsl::count(posts::user_id).aggregate_distinct())
        .get_result(conn)?)
}

/// Daily counts over the last `days` days, oldest first: sign-ups, posts, and the
/// members who posted that day.
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
