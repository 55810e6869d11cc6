//! The `fdi.analytics.v1.AnalyticsService` handlers.

mod figures;
mod progress;
mod watch;

use std::{pin::Pin, sync::Arc};

use fdi_kit::{
    period::{self, Span},
    status::invalid_argument,
    telemetry::db_span,
};
use fdi_proto::{
    analytics::{self as pb, analytics_service_server::AnalyticsService},
    common::{Boundaries, Period, Scope},
};
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{
    consumer::Applied,
    cube::Cube,
    error::Result,
    places::Places,
    query::{self, Filter, GroupBy, Grouped},
};

/// Most provinces or zones one request may name.
const MAX_PLACES: usize = 63;

/// State shared by the handlers.
#[derive(Debug)]
pub struct State {
    /// The database (rollups, and ingest's targets).
    pub pool: PgPool,
    /// Names through the catalogue.
    pub places: Places,
    /// Batches of events as they are folded into the rollups (for Watch).
    pub applied: broadcast::Sender<Vec<Applied>>,
    /// The monthly rollups in memory.
    pub cube: Arc<Cube>,
}

impl State {
    /// Sums of the rollups and the cursor they reflect: from the cube when it
    /// can answer, from SQL otherwise.
    async fn sums(&self, group: GroupBy, span: Span, filter: &Filter) -> Result<(Grouped, i64)> {
        if let Some(answer) =
            tracing::info_span!("analytics.cube", group = ?group).in_scope(|| self.cube.sums(group, span, filter))
        {
            return Ok(answer);
        }
        let (as_of,): (i64,) = sqlx::query_as("SELECT last_sequence FROM consumer WHERE id = 1")
            .fetch_one(&self.pool)
            .instrument(db_span("SELECT", "consumer"))
            .await?;
        let grouped = query::sums(&self.pool, group, span, filter)
            .instrument(db_span("SELECT", "rollup"))
            .await?;
        Ok((grouped, as_of))
    }
}

/// The gRPC face of the analytics service.
#[derive(Debug, Clone)]
pub struct AnalyticsApi {
    state: Arc<State>,
}

impl AnalyticsApi {
    /// Serves the state.
    #[must_use]
    pub fn new(state: Arc<State>) -> Self {
        Self { state }
    }
}

/// The reporting currency: USD (default) or VND.
fn reporting_currency(code: &str, field: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    match code.as_str() {
        "" => Ok("USD".to_owned()),
        "USD" | "VND" => Ok(code),
        _ => Err(invalid_argument(field, format!("`{code}` is not supported: report in USD or VND")).into()),
    }
}

fn scope_filter(scope: i32) -> Result<Option<&'static str>> {
    match Scope::try_from(scope) {
        Ok(Scope::Fdi) => Ok(Some("fdi")),
        Ok(Scope::Ddi) => Ok(Some("ddi")),
        Ok(Scope::All | Scope::Unspecified) => Ok(None),
        Err(_) => Err(invalid_argument("scope", format!("{scope} is not a scope")).into()),
    }
}

fn boundaries(value: i32) -> Result<Boundaries> {
    match Boundaries::try_from(value) {
        Ok(Boundaries::Unspecified) => Ok(Boundaries::Current),
        Ok(b) => Ok(b),
        Err(_) => Err(invalid_argument("boundaries", format!("{value} is not a boundaries value")).into()),
    }
}

fn span(period: Option<&Period>) -> Result<Span> {
    Ok(period::resolve(period, "period")?)
}

/// The filter for provinces and zones named in a request, on today's
/// boundaries (a pre-2025 name counts as the unit that absorbed it) or as recorded.
async fn place_filter(
    state: &State,
    provinces: &[String],
    zones: &[String],
    boundaries: Boundaries,
    scope: Option<&'static str>,
) -> Result<Filter> {
    if provinces.len() > MAX_PLACES || zones.len() > MAX_PLACES {
        return Err(invalid_argument(
            "provinces",
            format!("at most {MAX_PLACES} provinces and {MAX_PLACES} zones per request"),
        )
        .into());
    }
    let mut filter = Filter {
        scope,
        ..Filter::default()
    };
    for (i, text) in provinces.iter().enumerate() {
        let province = state.places.province(text, &format!("provinces[{i}]")).await?;
        match boundaries {
            Boundaries::AsRecorded => filter.recorded_provinces.push(province.code),
            _ => filter.current_provinces.push(province.current),
        }
    }
    for (i, text) in zones.iter().enumerate() {
        filter
            .zones
            .push(state.places.zone(text, &format!("zones[{i}]")).await?);
    }
    filter.current_provinces.sort();
    filter.current_provinces.dedup();
    Ok(filter)
}

type AlertStream = Pin<Box<dyn Stream<Item = Result<pb::Alert, Status>> + Send>>;

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    type WatchStream = AlertStream;

    async fn get_summary(&self, request: Request<pb::GetSummaryRequest>) -> Result<Response<pb::Summary>, Status> {
        Ok(Response::new(
            figures::summary(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn get_ranking(&self, request: Request<pb::GetRankingRequest>) -> Result<Response<pb::Ranking>, Status> {
        Ok(Response::new(
            figures::ranking(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn get_time_series(
        &self,
        request: Request<pb::GetTimeSeriesRequest>,
    ) -> Result<Response<pb::TimeSeries>, Status> {
        Ok(Response::new(
            figures::time_series(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn get_breakdown(
        &self,
        request: Request<pb::GetBreakdownRequest>,
    ) -> Result<Response<pb::Breakdown>, Status> {
        Ok(Response::new(
            figures::breakdown(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn get_target_progress(
        &self,
        request: Request<pb::GetTargetProgressRequest>,
    ) -> Result<Response<pb::TargetProgress>, Status> {
        Ok(Response::new(
            progress::target_progress(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn reconcile(&self, request: Request<pb::ReconcileRequest>) -> Result<Response<pb::Reconciliation>, Status> {
        Ok(Response::new(
            progress::reconcile(&self.state, &request.into_inner()).await?,
        ))
    }

    async fn watch(&self, request: Request<pb::WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        Ok(Response::new(
            watch::start(Arc::clone(&self.state), request.into_inner()).await?,
        ))
    }
}
