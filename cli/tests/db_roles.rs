//! Least privilege in PostgreSQL, black-box: on a fresh database the real
//! `fdi db roles` makes the roles and their grants; the three services then
//! serve, each connected as its own role and migrated as `fdi_owner`; and
//! each role, connected directly, may do what `deploy/postgres/roles.sql`
//! says and nothing more (SQLSTATE 42501, permission denied, for the rest);
//! `fdi rebuild-rollups` works as analytics' role.
//!
//! Roles are the cluster's, not the database's, so everything that depends
//! on them is in the one test below; the command tolerates roles that
//! already exist (and gives them the password file's passwords).

mod common;

use std::{path::Path, time::Duration};

use fdi_kit::feed;
use fdi_proto::ingest::{self as ing, EventInput, ingest_service_client::IngestServiceClient};
use fdi_testkit::{ServiceGuard, settings, spawn_service, wait_until_serving};
use sqlx::{Connection, PgConnection};

/// How long a service may take to say SERVING (debug builds on a busy machine).
const READY: Duration = Duration::from_secs(120);

const OWNER: &str = "fdi_owner";
const SERVICE_ROLES: [&str; 3] = ["fdi_catalogue", "fdi_ingest", "fdi_analytics"];
/// The schemas and one table of each, by owner service role.
const OWN_TABLES: [(&str, &str); 3] = [
    ("fdi_catalogue", "catalogue.provinces"),
    ("fdi_ingest", "ingest.events"),
    ("fdi_analytics", "analytics.rollup"),
];
const SCHEMAS: [&str; 5] = ["catalogue", "ingest", "analytics", "access", "public"];

/// Each role's password in the test's `--password-file`.
fn password(role: &str) -> String {
    format!("{role}-test-password-0123")
}

/// `admin` (a superuser's URL) as `role`.
fn as_role(admin: &str, role: &str) -> String {
    fdi_testkit::with_role(admin, role, &password(role))
}

/// Runs `fdi db roles` against `admin`; its standard output.
async fn fdi_db_roles(admin: &str, password_file: &Path) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["db", "roles", "--admin-url", admin, "--password-file"])
        .arg(password_file)
        .env_remove("FDI_ADMIN_DATABASE_URL")
        .output()
        .await
        .expect("run fdi db roles");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{stdout}");
    assert!(
        output.status.success(),
        "fdi db roles failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for role in std::iter::once(OWNER).chain(SERVICE_ROLES) {
        assert!(
            stdout.contains(&format!("{role:<14} made; password from --password-file"))
                || stdout.contains(&format!("{role:<14} already there; password from --password-file")),
            "{stdout}"
        );
        assert!(!stdout.contains(&password(role)), "a password printed: {stdout}");
    }
    stdout
}

/// The settings of a service connected as `role` and migrated as the owner.
fn settings(admin: &str, role: &str) -> fdi_kit::config::Common {
    let mut settings = settings::common(&as_role(admin, role));
    settings.database = settings.database.with_migration_url(as_role(admin, OWNER));
    settings
}

async fn connect(admin: &str, role: &str) -> PgConnection {
    PgConnection::connect(&as_role(admin, role))
        .await
        .unwrap_or_else(|e| panic!("connect as {role}: {e}"))
}

/// `sql` as `role` fails with permission denied.
async fn refused(connection: &mut PgConnection, role: &str, sql: &str) {
    match sqlx::raw_sql(sql).execute(&mut *connection).await {
        Err(sqlx::Error::Database(error)) => {
            assert_eq!(error.code().as_deref(), Some("42501"), "{role}: {sql}: {error}");
        }
        other => panic!("{role}: {sql}: expected permission denied, got {other:?}"),
    }
}

/// `sql` as `role` succeeds.
async fn allowed(connection: &mut PgConnection, role: &str, sql: &str) {
    if let Err(error) = sqlx::raw_sql(sql).execute(&mut *connection).await {
        panic!("{role}: {sql}: {error}");
    }
}

async fn count(connection: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_service_runs_as_its_own_role_with_only_its_rights() {
    let db = fdi_testkit::database().await;
    let admin = db.url.clone();
    // Made by the superuser before the roles, as an earlier deployment would have: taken over by fdi_owner.
    let mut superuser = PgConnection::connect(&admin).await.unwrap();
    allowed(
        &mut superuser,
        "superuser",
        "CREATE SCHEMA analytics; CREATE TABLE analytics.legacy (id bigint GENERATED ALWAYS AS IDENTITY, note text)",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("passwords");
    let lines: String = std::iter::once(OWNER)
        .chain(SERVICE_ROLES)
        .map(|role| format!("{role}={}\n", password(role)))
        .collect();
    std::fs::write(&password_file, format!("# test roles\n{lines}")).unwrap();

    // First run: ingest has not migrated, so there is no feed to grant yet, and the command says so.
    let first = fdi_db_roles(&admin, &password_file).await;
    assert!(
        first.contains(&format!("Analytics may not read {}", feed::EVENTS)),
        "{first}"
    );

    let catalogue_config =
        fdi_catalogue::Config::new("127.0.0.1:0".parse().unwrap(), settings(&admin, "fdi_catalogue"));
    let catalogue = spawn_service(|l, s| fdi_catalogue::serve(catalogue_config, l, s)).await;
    wait_until_serving(&catalogue.endpoint(), fdi_catalogue::SERVICE_NAME, READY).await;
    let ingest_config = fdi_ingest::Config::new(
        "127.0.0.1:0".parse().unwrap(),
        settings(&admin, "fdi_ingest"),
        catalogue.endpoint(),
    );
    let ingest = spawn_service(|l, s| fdi_ingest::serve(ingest_config, l, s)).await;
    wait_until_serving(&ingest.endpoint(), fdi_ingest::SERVICE_NAME, READY).await;

    // Again, now that ingest's migrations made the feed: analytics may read it, and nothing is left to say.
    let second = fdi_db_roles(&admin, &password_file).await;
    assert!(second.contains(&format!("{OWNER:<14} already there")), "{second}");
    assert!(!second.contains("may not read"), "{second}");

    let analytics_config = fdi_analytics::Config::new(
        "127.0.0.1:0".parse().unwrap(),
        settings(&admin, "fdi_analytics"),
        catalogue.endpoint(),
    );
    let analytics = spawn_service(|l, s| fdi_analytics::serve(analytics_config, l, s)).await;
    wait_until_serving(&analytics.endpoint(), fdi_analytics::SERVICE_NAME, READY).await;

    the_services_serve(&ingest, &analytics).await;
    the_roles_have_only_their_rights(&admin).await;

    // An operator's command as analytics' role, migrated as the owner: the rollups' TRUNCATE is analytics' right.
    // (Analytics is stopped first, or its consumer could fold the event again before the command does.)
    analytics.stop().await.unwrap();
    let rebuilt = tokio::process::Command::new(env!("CARGO_BIN_EXE_fdi"))
        .args(["rebuild-rollups", "--database-url", &as_role(&admin, "fdi_analytics")])
        .env("FDI_MIGRATION_DATABASE_URL", as_role(&admin, OWNER))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(stdout.contains("Rebuilt the rollups from 1 events"), "{stdout}");

    for service in [ingest, catalogue] {
        service.stop().await.unwrap();
    }
}

/// An event submitted through ingest (which asks the catalogue for its investor) reaches analytics' figures.
async fn the_services_serve(ingest: &ServiceGuard, analytics: &ServiceGuard) {
    let mut ingest = IngestServiceClient::connect(ingest.endpoint()).await.unwrap();
    let submitted = ingest
        .submit_event(ing::SubmitEventRequest {
            event: Some(EventInput {
                idempotency_key: "roles-1".into(),
                kind: "new".into(),
                event_date: "2025-02-10".into(),
                project_ref: "ROLES-1".into(),
                investor: "Least Privilege Co., Ltd".into(),
                investor_country: "KR".into(),
                province: "Hà Nội".into(),
                sector: "C".into(),
                amount: "12000000".into(),
                currency: "USD".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.outcome(), ing::Outcome::Accepted, "{submitted:?}");
    let sequence = submitted.event.unwrap().sequence;

    assert_eq!(
        common::new_projects_2025(&analytics.endpoint(), None, "Hà Nội", sequence).await,
        1
    );
}

/// Each role, connected directly, may do what roles.sql grants and nothing more.
async fn the_roles_have_only_their_rights(admin: &str) {
    // fdi_owner owns the four schemas and everything in them, the table made before the roles included;
    // the services' roles own nothing.
    let mut owner = connect(admin, OWNER).await;
    let schemas = "('catalogue', 'ingest', 'analytics', 'access')";
    assert_eq!(
        count(
            &mut owner,
            &format!(
                "SELECT count(*) FROM pg_namespace WHERE nspname IN {schemas} AND nspowner = 'fdi_owner'::regrole"
            )
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &mut owner,
            &format!(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN {schemas} AND c.relowner <> 'fdi_owner'::regrole"
            )
        )
        .await,
        0
    );
    assert_eq!(count(&mut owner, "SELECT count(*) FROM ingest.events").await, 1);
    for role in SERVICE_ROLES {
        let owned = format!(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = '{role}'::regrole)
                  + (SELECT count(*) FROM pg_namespace WHERE nspowner = '{role}'::regrole)
                  + (SELECT count(*) FROM pg_proc WHERE proowner = '{role}'::regrole)
                  + (SELECT count(*) FROM pg_type WHERE typowner = '{role}'::regrole)"
        );
        assert_eq!(count(&mut owner, &owned).await, 0, "{role} owns something");
    }
    owner.close().await.unwrap();

    for role in SERVICE_ROLES {
        let mut connection = connect(admin, role).await;
        // Its own schema's rows, and no other service's.
        for (owner_role, table) in OWN_TABLES {
            let read = format!("SELECT * FROM {table} LIMIT 1");
            if owner_role == role {
                allowed(&mut connection, role, &read).await;
            } else {
                refused(&mut connection, role, &read).await;
                refused(&mut connection, role, &format!("DELETE FROM {table}")).await;
            }
            // DDL nowhere: no dropping, not even its own tables.
            refused(&mut connection, role, &format!("DROP TABLE {table}")).await;
            refused(
                &mut connection,
                role,
                &format!("ALTER TABLE {table} ADD COLUMN probe int"),
            )
            .await;
        }
        // No CREATE in any schema, its own included.
        for schema in SCHEMAS {
            refused(&mut connection, role, &format!("CREATE TABLE {schema}.probe (x int)")).await;
            refused(
                &mut connection,
                role,
                &format!("CREATE VIEW {schema}.probe AS SELECT 1 AS x"),
            )
            .await;
        }
        refused(&mut connection, role, "CREATE SCHEMA probe").await;
        // Every service reads the keys; only the catalogue writes them.
        allowed(&mut connection, role, "SELECT * FROM access.api_keys LIMIT 1").await;
        let key = format!("roles{}", &role[4..]);
        let insert = format!(
            "INSERT INTO access.api_keys (key_id, secret_hash, role, creator) VALUES ('{key}', 'x', 'reader', 'test')"
        );
        let update = format!("UPDATE access.api_keys SET revoke_time = now() WHERE key_id = '{key}'");
        if role == "fdi_catalogue" {
            allowed(&mut connection, role, &insert).await;
            allowed(&mut connection, role, &update).await;
        } else {
            refused(&mut connection, role, &insert).await;
            refused(&mut connection, role, &update).await;
        }
        refused(&mut connection, role, "DELETE FROM access.api_keys").await;
        connection.close().await.unwrap();
    }

    // Analytics reads ingest's feed, exactly: the views, never the tables behind them.
    let mut analytics = connect(admin, "fdi_analytics").await;
    assert_eq!(
        count(&mut analytics, &format!("SELECT count(*) FROM {}", feed::EVENTS)).await,
        1
    );
    for view in [feed::TARGETS, feed::REPORTED_STATISTICS] {
        allowed(
            &mut analytics,
            "fdi_analytics",
            &format!("SELECT * FROM {view} LIMIT 1"),
        )
        .await;
    }
    for sql in [
        "SELECT * FROM ingest.events LIMIT 1",
        "INSERT INTO ingest.events DEFAULT VALUES",
        "SELECT * FROM ingest.targets LIMIT 1",
        "SELECT * FROM ingest.reported_statistics LIMIT 1",
        "SELECT nextval('ingest.event_sequence')",
        "DROP VIEW ingest.feed_events_v1",
    ] {
        refused(&mut analytics, "fdi_analytics", sql).await;
    }
    refused(
        &mut analytics,
        "fdi_analytics",
        &format!("INSERT INTO {} DEFAULT VALUES", feed::EVENTS),
    )
    .await;
    analytics.close().await.unwrap();
}
