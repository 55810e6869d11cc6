//! `fdi.access.v1.AccessService`: creating, reading, listing and revoking API keys.
//!
//! The keys live in the kit's key table (schema `access`), which every service reads to check its callers;
//! the catalogue serves the RPCs because a writer's provinces are checked against its province data. The
//! secret is returned once by CreateApiKey and is never stored, logged or returned again, nor is its hash.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use fdi_kit::{
    access::{self, Caller, KeyRecord, KeyStore, Role},
    domain::ProvinceCode,
    paging::PageLimits,
    status::{Violations, check_text, invalid_argument, shorten},
};
use fdi_proto::access::{self as pb, access_service_server::AccessService};
use tonic::{Request, Response, Status};

use super::{nearest, required, resource_id};
use crate::{
    error::{Error, Result},
    model::{EntityKind, timestamp},
    state::{Catalogue, Snapshot},
};

const LIMITS: PageLimits = PageLimits {
    default: 100,
    max: 1000,
};
/// Most characters of a key's description.
const MAX_DESCRIPTION_CHARS: usize = 500;
/// Most provinces of one writer key: there are 63 units, today's and the pre-2025 ones.
const MAX_PROVINCES: usize = 63;
/// Most characters of a key id accepted in a name (the kit makes 16); longer is malformed, not unknown.
const MAX_KEY_ID_CHARS: usize = 64;
/// The collection of key names, `apiKeys/{key_id}`.
const COLLECTION: &str = "apiKeys";

/// The gRPC face of the key table.
#[derive(Debug, Clone)]
pub struct AccessApi {
    keys: KeyStore,
    state: Arc<Catalogue>,
}

impl AccessApi {
    /// Serves `keys` (the skeleton's key table), checking writers' provinces against `state`.
    #[must_use]
    pub fn new(keys: KeyStore, state: Arc<Catalogue>) -> Self {
        Self { keys, state }
    }
}

#[tonic::async_trait]
impl AccessService for AccessApi {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(create(self, &caller, request.into_inner()).await?))
    }

    async fn get_api_key(&self, request: Request<pb::GetApiKeyRequest>) -> Result<Response<pb::ApiKey>, Status> {
        Ok(Response::new(get(self, request.into_inner()).await?))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        Ok(Response::new(list(self, request.into_inner()).await?))
    }

    async fn revoke_api_key(&self, request: Request<pb::RevokeApiKeyRequest>) -> Result<Response<pb::ApiKey>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(revoke(self, &caller, request.into_inner()).await?))
    }
}

/// A key to create, validated.
struct NewApiKey {
    role: Role,
    provinces: Vec<ProvinceCode>,
    description: String,
    expire_time: Option<DateTime<Utc>>,
}

async fn create(
    api: &AccessApi,
    caller: &Caller,
    request: pb::CreateApiKeyRequest,
) -> Result<pb::CreateApiKeyResponse> {
    let key = required(request.api_key, "api_key")?;
    let snapshot = api.state.snapshot()?;
    let new = validated(&snapshot, &key, Utc::now())?;
    let made = generate().await?;
    let record = KeyRecord {
        key_id: made.key_id.clone(),
        secret_hash: made.secret_hash.clone(),
        role: new.role,
        provinces: new.provinces,
        description: new.description,
        creator: caller.key_id.clone(),
        create_time: stored_precision(Utc::now()),
        expire_time: new.expire_time,
        revoke_time: None,
    };
    api.keys.insert(&record).await?;
    tracing::info!(key_id = %record.key_id, role = record.role.as_str(), creator = %record.creator, "API key created");
    Ok(pb::CreateApiKeyResponse {
        api_key: Some(to_proto(&record)),
        secret: made.token,
    })
}

/// `time` as PostgreSQL keeps it (microseconds), so CreateApiKey answers what GetApiKey will.
fn stored_precision(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

/// A new key, hashed off the async threads (Argon2id takes tens of milliseconds of a core).
async fn generate() -> Result<access::NewKey> {
    match tokio::task::spawn_blocking(access::generate).await {
        Ok(made) => Ok(made?),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(Error::ShuttingDown),
    }
}

/// Checks every field of a key to create at `now`, reporting all violations at once.
fn validated(snapshot: &Snapshot, key: &pb::ApiKey, now: DateTime<Utc>) -> Result<NewApiKey> {
    let mut violations = Violations::new();
    let role = role(&mut violations, key.role);
    let provinces = provinces(&mut violations, snapshot, role, &key.provinces);
    check_text(
        &mut violations,
        "api_key.description",
        &key.description,
        MAX_DESCRIPTION_CHARS,
        false,
    );
    let expire_time = expire_time(&mut violations, key.expire_time.as_ref(), now);
    let (Some(role), true) = (role, violations.is_empty()) else {
        return Err(violations.into_status().into());
    };
    Ok(NewApiKey {
        role,
        provinces,
        description: key.description.trim().to_owned(),
        expire_time,
    })
}

fn role(violations: &mut Violations, value: i32) -> Option<Role> {
    let role = pb::Role::try_from(value)
        .ok()
        .and_then(|role| Role::try_from(role).ok());
    if role.is_none() {
        let names = "ROLE_READER, ROLE_WRITER, ROLE_CURATOR, ROLE_ADMIN or ROLE_SERVICE";
        let problem = if value == 0 {
            "is required".to_owned()
        } else {
            format!("{value} is not a role")
        };
        violations.add("api_key.role", format!("{problem}: use {names}"));
    }
    role
}

/// A writer's provinces (at least one, each a known unit, duplicates dropped); other roles have none.
fn provinces(
    violations: &mut Violations,
    snapshot: &Snapshot,
    role: Option<Role>,
    given: &[String],
) -> Vec<ProvinceCode> {
    match role {
        Some(Role::Writer) if given.is_empty() => {
            violations.add(
                "api_key.provinces",
                "a writer needs at least one province, e.g. provinces/bac-ninh",
            );
        }
        Some(role) if role != Role::Writer && !given.is_empty() => {
            violations.add(
                "api_key.provinces",
                format!("only writers have provinces; a {} key has none", role.as_str()),
            );
        }
        _ => {}
    }
    if given.len() > MAX_PROVINCES {
        violations.add(
            "api_key.provinces",
            format!("has {} entries; at most {MAX_PROVINCES}", given.len()),
        );
        return Vec::new();
    }
    let mut codes = Vec::new();
    for (i, text) in given.iter().enumerate() {
        match province_code(snapshot, text) {
            Ok(code) if !codes.contains(&code) => codes.push(code),
            Ok(_) => {}
            Err(description) => violations.add(format!("api_key.provinces[{i}]"), description),
        }
    }
    codes
}

/// The code of `provinces/{code}` or a bare code known to the catalogue (today's units and pre-2025 ones);
/// otherwise why not, with the nearest names.
fn province_code(snapshot: &Snapshot, text: &str) -> Result<ProvinceCode, String> {
    let trimmed = text.trim();
    let code = trimmed.strip_prefix("provinces/").unwrap_or(trimmed);
    if let Some(code) = snapshot
        .province(code)
        .and_then(|province| ProvinceCode::parse(&province.code))
    {
        return Ok(code);
    }
    let suggestions = nearest(snapshot, EntityKind::Province, code);
    let shown = shorten(trimmed, 60);
    Err(if suggestions.is_empty() {
        format!("`{shown}` is not a province code such as provinces/bac-ninh")
    } else {
        format!(
            "`{shown}` is not a province code; did you mean {}?",
            suggestions.join(", ")
        )
    })
}

/// The expiry, which must be a valid time in the future.
fn expire_time(
    violations: &mut Violations,
    given: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let given = given?;
    let time = u32::try_from(given.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::from_timestamp(given.seconds, nanos))
        .map(stored_precision);
    match time {
        None => violations.add("api_key.expire_time", "is not a valid timestamp"),
        Some(time) if time <= now => violations.add(
            "api_key.expire_time",
            format!(
                "is {}, which has passed; a key must expire in the future",
                time.to_rfc3339()
            ),
        ),
        Some(_) => {}
    }
    time
}

async fn get(api: &AccessApi, request: pb::GetApiKeyRequest) -> Result<pb::ApiKey> {
    let key_id = key_id(&request.name, "name")?;
    let key = api.keys.get(key_id).await?.ok_or_else(|| not_found(key_id))?;
    Ok(to_proto(&key))
}

async fn list(api: &AccessApi, request: pb::ListApiKeysRequest) -> Result<pb::ListApiKeysResponse> {
    let paging = LIMITS.check(request.page_size, &request.page_token)?;
    let page = paging.for_query(&[COLLECTION, if request.show_inactive { "all" } else { "active" }])?;
    let after = page.after.as_deref().unwrap_or("");
    let keys = api.keys.list(after, page.fetch_limit(), request.show_inactive).await?;
    let (keys, next_page_token) = page.finish(keys, |key| key.key_id.clone());
    Ok(pb::ListApiKeysResponse {
        api_keys: keys.iter().map(to_proto).collect(),
        next_page_token,
    })
}

async fn revoke(api: &AccessApi, caller: &Caller, request: pb::RevokeApiKeyRequest) -> Result<pb::ApiKey> {
    let key_id = key_id(&request.name, "name")?;
    let key = api.keys.revoke(key_id).await?.ok_or_else(|| not_found(key_id))?;
    tracing::info!(key_id, revoked_by = %caller.key_id, "API key revoked");
    Ok(to_proto(&key))
}

/// The key id of `apiKeys/{key_id}` (or a bare key id) in `field`.
///
/// A whole key pasted by mistake is refused without being echoed, so its secret lands in no error message.
fn key_id<'a>(name: &'a str, field: &str) -> Result<&'a str> {
    if access::parse_token(name.trim()).is_some() || name.trim().starts_with("fdi_") {
        return Err(invalid_argument(
            field,
            "is a whole API key, secret included; pass only its name, apiKeys/{key_id}, and revoke a key whose secret \
             was shown where it should not be",
        )
        .into());
    }
    let id = resource_id(name, COLLECTION, field)?;
    let well_formed = !id.is_empty()
        && id.len() <= MAX_KEY_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(invalid_argument(
            field,
            format!(
                "`{}` is not an API key name such as apiKeys/0123456789abcdef",
                shorten(name.trim(), 60)
            ),
        )
        .into());
    }
    Ok(id)
}

fn not_found(key_id: &str) -> Error {
    fdi_kit::status::not_found("API key", &format!("{COLLECTION}/{key_id}"), &[]).into()
}

/// The protobuf form of a stored key: everything but the secret's hash.
fn to_proto(key: &KeyRecord) -> pb::ApiKey {
    pb::ApiKey {
        name: format!("{COLLECTION}/{}", key.key_id),
        role: pb::Role::from(key.role).into(),
        provinces: key
            .provinces
            .iter()
            .map(|code| format!("provinces/{}", code.as_str()))
            .collect(),
        description: key.description.clone(),
        create_time: Some(timestamp(key.create_time)),
        creator: key.creator.clone(),
        expire_time: key.expire_time.map(timestamp),
        revoke_time: key.revoke_time.map(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_checked_and_whole_keys_never_echoed() {
        assert_eq!(key_id("apiKeys/0123456789abcdef", "name").unwrap(), "0123456789abcdef");
        assert_eq!(key_id(" 0123456789abcdef ", "name").unwrap(), "0123456789abcdef");
        for malformed in [
            "",
            "apiKeys/",
            "apiKeys/XYZ",
            "users/0123",
            "apiKeys/a/b",
            "apiKeys/0123456789ABCDEF",
        ] {
            let status = Status::from(key_id(malformed, "name").unwrap_err());
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{malformed}");
        }
        let token = access::generate().unwrap().token;
        let status = Status::from(key_id(&token, "name").unwrap_err());
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(!status.message().contains(&token));
        assert!(!format!("{status:?}").contains(&token));
    }

    #[test]
    fn the_proto_form_has_no_secret_hash() {
        let made = access::generate().unwrap();
        let record = KeyRecord {
            key_id: made.key_id.clone(),
            secret_hash: made.secret_hash.clone(),
            role: Role::Writer,
            provinces: vec![ProvinceCode::parse("bac-ninh").unwrap()],
            description: "board".into(),
            creator: "anonymous".into(),
            create_time: Utc::now(),
            expire_time: None,
            revoke_time: None,
        };
        let proto = to_proto(&record);
        assert_eq!(proto.name, format!("apiKeys/{}", made.key_id));
        assert_eq!(proto.provinces, ["provinces/bac-ninh"]);
        assert!(!format!("{proto:?}").contains(&made.secret_hash));
    }

    #[test]
    fn an_expiry_must_be_in_the_future() {
        let now = Utc::now();
        let mut violations = Violations::new();
        let past = timestamp(now - chrono::Duration::seconds(1));
        let future = timestamp(now + chrono::Duration::days(1));
        assert!(expire_time(&mut violations, Some(&future), now).is_some());
        assert!(violations.is_empty());
        expire_time(&mut violations, Some(&past), now);
        for nanos in [-1, 1_000_000_000] {
            expire_time(
                &mut violations,
                Some(&prost_types::Timestamp { seconds: 0, nanos }),
                now,
            );
        }
        let fields: Vec<&str> = violations.items().iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["api_key.expire_time"; 3]);
    }
}
