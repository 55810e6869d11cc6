//! The `fdi.analytics.v1.AnalyticsService` handlers: each reads its request,
//! validates it, asks the cube or the store, and converts the answer.

mod figures;
mod progress;
mod watch;
mod watchers;

use std::{pin::Pin, sync::Arc};

use fdi_kit::{
    domain::{ReportingCurrency, Scope},
    period::{self, Span},
    status::invalid_argument,
};
use fdi_proto::{
    analytics::{self as pb, analytics_service_server::AnalyticsService},
    common::{Boundaries, Period},
};
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

pub use self::watchers::{WatchLimit, WatchLimits, Watchers};
use crate::{
    consumer::AppliedBatch,
    cube::Cube,
    error::Result,
    places::Places,
    query::{Filter, GroupBy, Grouped},
    store,
};

/// Most provinces or zones one request may name.
const MAX_PLACES: usize = 63;

/// State shared by the handlers.
#[derive(Debug)]
pub struct State {
    /// The database (rollups, and ingest's feed).
    pub pool: PgPool,
    /// Names through the catalogue.
    pub places: Places,
    /// Batches of events as this replica folds them into memory (for Watch).
    pub applied: broadcast::Sender<Arc<AppliedBatch>>,
    /// The monthly rollups in memory.
    pub cube: Arc<Cube>,
    /// The open Watch streams, under their caps.
    pub watchers: Arc<Watchers>,
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
        Ok(store::figures::sums(&self.pool, group, span, filter).await?)
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
fn reporting_currency(code: &str, field: &str) -> Result<ReportingCurrency> {
    ReportingCurrency::parse_requested(code).ok_or_else(|| {
        let code = code.trim().to_ascii_uppercase();
        invalid_argument(field, format!("`{code}` is not supported: report in USD or VND")).into()
    })
}

/// The scope a request names, as the filter holds it: `None` for all.
fn scope_filter(scope: i32) -> Result<Option<&'static str>> {
    Scope::from_proto_field(scope)
        .map(|scope| scope.map(Scope::as_str))
        .map_err(|_| invalid_argument("scope", format!("{scope} is not a scope")).into())
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
            Boundaries::AsRecorded => filter.recorded_provinces.push(province.code.into()),
            _ => filter.current_provinces.push(province.current.into()),
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

/// The service: each unary RPC hands its request to its handler with the
/// state, and the handler's error becomes the status (one mapping, in
/// [`crate::error`]); Watch starts a stream.
macro_rules! analytics_service {
    ($($rpc:ident($request:ident) -> $response:ident = $handler:path;)+) => {
        #[tonic::async_trait]
        impl AnalyticsService for AnalyticsApi {
            type WatchStream = AlertStream;

            $(
                async fn $rpc(&self, request: Request<pb::$request>) -> Result<Response<pb::$response>, Status> {
                    Ok(Response::new($handler(&self.state, &request.into_inner()).await?))
                }
            )+

            async fn watch(&self, request: Request<pb::WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
                let caller = watch_caller(&request);
                Ok(Response::new(
                    watch::start(Arc::clone(&self.state), caller, request.into_inner()).await?,
                ))
            }
        }
    };
}

/// Who a Watch stream counts against: its API key, or (where anonymous calls are allowed, so every caller is
/// `anonymous`) its address.
fn watch_caller<T>(request: &Request<T>) -> String {
    match fdi_kit::access::Caller::of(request) {
        Ok(caller) if caller.key_id != fdi_kit::access::ANONYMOUS => format!("key {}", caller.key_id),
        _ => request.remote_addr().map_or_else(
            || "no address".to_owned(),
            |addr| format!("address {}", addr.ip().to_canonical()),
        ),
    }
}

analytics_service! {
    get_summary(GetSummaryRequest) -> Summary = figures::summary;
    get_ranking(GetRankingRequest) -> Ranking = figures::ranking;
    get_time_series(GetTimeSeriesRequest) -> TimeSeries = figures::time_series;
    get_breakdown(GetBreakdownRequest) -> Breakdown = figures::breakdown;
    get_target_progress(GetTargetProgressRequest) -> TargetProgress = progress::target_progress;
    reconcile(ReconcileRequest) -> Reconciliation = progress::reconcile;
}
