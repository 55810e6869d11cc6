//! The test kit gives each test a real, separate, empty database.

use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn each_test_gets_its_own_empty_database() {
    let first = fdi_testkit::database().await;
    let second = fdi_testkit::database().await;
    assert_ne!(first.name, second.name);

    let mut connection = PgConnection::connect(&first.url).await.expect("connect");
    sqlx::query("CREATE TABLE marker (id int)")
        .execute(&mut connection)
        .await
        .unwrap();
    let (current,): (String,) = sqlx::query_as("SELECT current_database()")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(current, first.name);

    let mut other = PgConnection::connect(&second.url).await.expect("connect");
    let (tables,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_tables WHERE tablename = 'marker'")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(tables, 0, "databases are isolated");
}
