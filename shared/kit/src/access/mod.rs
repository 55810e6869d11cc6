//! Who may call what: API keys with roles, a writer's provinces, and the one
//! layer every service checks them in.
//!
//! A key is `fdi_{key_id}_{secret}`: the key id is public (it names the key in
//! lists, logs and the audit columns), the secret is 256 random bits shown
//! once and stored only as an Argon2id hash. Every service reads the same
//! table (schema `access`), refreshing it every second, so a revocation holds
//! everywhere within seconds.

mod keys;
mod layer;
mod store;

use chrono::NaiveDate;
use fdi_proto::access as pb;
use tonic::Status;

use crate::domain::{MERGER_DATE, ProvinceCode};

pub use keys::{KeyError, NewKey, generate, hash, parse_token, verify};
pub use layer::{API_KEY_VARIABLE, AccessLayer, AccessService, Authenticator, Authorized, Bearer, Policy};
pub use store::{KeyRecord, KeyStore, MIGRATOR, SCHEMA, StoreError};

/// What a key may do (see `fdi.access.v1.Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads.
    Reader,
    /// Reads, and writes for its provinces.
    Writer,
    /// Reads, and reference data, rates and targets.
    Curator,
    /// Everything.
    Admin,
    /// Another service: reads, and registering investors.
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Reader, Role::Writer, Role::Curator, Role::Admin, Role::Service];

    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Curator => "curator",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// The role of a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether the role allows calls that need `permission`.
    #[must_use]
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Reader => permission == Permission::Read,
            Role::Writer => matches!(permission, Permission::Read | Permission::Write),
            Role::Curator => matches!(permission, Permission::Read | Permission::Curate),
            Role::Service => matches!(permission, Permission::Read | Permission::Register),
        }
    }
}

impl From<Role> for pb::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Reader => pb::Role::Reader,
            Role::Writer => pb::Role::Writer,
            Role::Curator => pb::Role::Curator,
            Role::Admin => pb::Role::Admin,
            Role::Service => pb::Role::Service,
        }
    }
}

impl TryFrom<pb::Role> for Role {
    type Error = ();

    fn try_from(role: pb::Role) -> Result<Self, ()> {
        match role {
            pb::Role::Unspecified => Err(()),
            pb::Role::Reader => Ok(Role::Reader),
            pb::Role::Writer => Ok(Role::Writer),
            pb::Role::Curator => Ok(Role::Curator),
            pb::Role::Admin => Ok(Role::Admin),
            pb::Role::Service => Ok(Role::Service),
        }
    }
}

/// What an RPC needs; each service says it for each of its methods (its [`Policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Reading anything but keys.
    Read,
    /// Recording events, loads, documents and promotions (for the caller's provinces only).
    Write,
    /// Registering investors met in rows (ingest's calls to the catalogue).
    Register,
    /// Changing zones, investors, exchange rates and targets.
    Curate,
    /// Keys, re-processing held rows, rebuilding rollups.
    Admin,
}

impl Permission {
    /// The name used in messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Register => "register",
            Permission::Curate => "curate",
            Permission::Admin => "admin",
        }
    }
}

/// The authenticated caller of one call, put in the request's extensions by the access layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key id (or `anonymous` where anonymous calls are allowed); recorded next to every write.
    pub key_id: String,
    /// The key's role.
    pub role: Role,
    /// A writer's provinces.
    pub provinces: Vec<ProvinceCode>,
}

/// The caller recorded where a server allows calls without a key (local development and tests).
pub const ANONYMOUS: &str = "anonymous";

impl Caller {
    /// The caller of a server that allows anonymous calls: an admin named [`ANONYMOUS`].
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            key_id: ANONYMOUS.to_owned(),
            role: Role::Admin,
            provinces: Vec::new(),
        }
    }

    /// The caller of a request that passed the access layer.
    ///
    /// # Errors
    /// UNAUTHENTICATED when the request did not pass it (a server built without the layer).
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
    }

    /// Whether the caller writes in every province (an admin, or the anonymous caller of a server that allows
    /// it): only such a caller may send rows whose province cannot be known yet.
    #[must_use]
    pub fn writes_everywhere(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may write a row recorded under `recorded` (today's unit `current`) on `date`.
    ///
    /// A writer's province covers what was merged into it: a Bắc Ninh writer writes rows recorded under
    /// Bắc Giang. A writer of a pre-2025 unit keeps writing that unit's rows dated before the merger.
    #[must_use]
    pub fn may_write(&self, recorded: &ProvinceCode, current: &ProvinceCode, date: NaiveDate) -> bool {
        self.writes_everywhere()
            || (self.role == Role::Writer
                && self
                    .provinces
                    .iter()
                    .any(|own| own == current || (own == recorded && date < MERGER_DATE)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(provinces: &[&str]) -> Caller {
        Caller {
            key_id: "k".into(),
            role: Role::Writer,
            provinces: provinces.iter().map(|p| ProvinceCode::parse(p).unwrap()).collect(),
        }
    }

    #[test]
    fn a_writer_writes_its_provinces_and_what_merged_into_them() {
        let code = |c: &str| ProvinceCode::parse(c).unwrap();
        let before = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        let after = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let bac_ninh = writer(&["bac-ninh"]);
        assert!(bac_ninh.may_write(&code("bac-ninh"), &code("bac-ninh"), after));
        assert!(bac_ninh.may_write(&code("bac-giang"), &code("bac-ninh"), before));
        assert!(bac_ninh.may_write(&code("bac-giang"), &code("bac-ninh"), after));
        assert!(!bac_ninh.may_write(&code("ha-noi"), &code("ha-noi"), after));
        let bac_giang = writer(&["bac-giang"]);
        assert!(bac_giang.may_write(&code("bac-giang"), &code("bac-ninh"), before));
        assert!(!bac_giang.may_write(&code("bac-giang"), &code("bac-ninh"), after));
        assert!(!bac_giang.may_write(&code("bac-ninh"), &code("bac-ninh"), before));
    }

    #[test]
    fn roles_grant_what_the_contract_says() {
        assert!(Role::Reader.grants(Permission::Read));
        assert!(!Role::Reader.grants(Permission::Write));
        assert!(!Role::Writer.grants(Permission::Curate));
        assert!(!Role::Curator.grants(Permission::Write));
        assert!(!Role::Curator.grants(Permission::Admin));
        assert!(!Role::Service.grants(Permission::Write));
        assert!(Role::Admin.grants(Permission::Admin));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::try_from(pb::Role::from(role)), Ok(role));
        }
    }
}
