//! Black-box tests of the hardening fixes: values the catalogue refuses are
//! that row's field violation, and held rows follow the duplicate/conflict
//! rule of events.

mod common;

use fdi_proto::ingest::{self as pb, EventInput, HoldReason, Outcome};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

async fn submit(client: &mut common::Client, event: EventInput) -> Result<pb::SubmitEventResponse, tonic::Status> {
    client
        .submit_event(pb::SubmitEventRequest { event: Some(event) })
        .await
        .map(tonic::Response::into_inner)
}

/// Every event, through ListEvents.
async fn list_events(client: &mut common::Client) -> Vec<pb::Event> {
    client
        .list_events(pb::ListEventsRequest {
            page_size: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
}

/// Every held row, through ListHeldRows.
async fn list_held(client: &mut common::Client) -> Vec<pb::HeldRow> {
    client
        .list_held_rows(pb::ListHeldRowsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .held_rows
}

fn field_of(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn names_the_catalogue_refuses_are_that_rows_violation_and_the_batch_goes_on() {
    let mut system = common::start().await;
    let client = &mut system.client;

    // One row at a time: INVALID_ARGUMENT naming the field, never UNAVAILABLE.
    let mut no_letters = common::new_project("bang", "Bắc Ninh", "100");
    no_letters.investor = "!!!".into();
    let mut bare_zone = common::new_project("bare-zone", "", "100");
    bare_zone.zone = "zones/".into();
    let mut bare_province = common::new_project("bare-province", "provinces/", "100");
    bare_province.zone = String::new();
    // Folds to words, but only a legal form: the catalogue refuses it, ingest cannot tell beforehand.
    let mut legal_form_only = common::new_project("legal-form", "Bắc Ninh", "100");
    legal_form_only.investor = "Công ty TNHH".into();
    // 100 ligatures: within the raw length limit, but 300 letters once folded, more than the catalogue matches.
    let mut ligature_zone = common::new_project("ligatures", "", "100");
    ligature_zone.zone = "\u{FB03}".repeat(100);
    for (row, field) in [
        (no_letters.clone(), "event.investor"),
        (bare_zone.clone(), "event.zone"),
        (bare_province.clone(), "event.province"),
        (legal_form_only.clone(), "event.investor"),
        (ligature_zone, "event.zone"),
    ] {
        let status = submit(client, row).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(field_of(&status), [field], "{}", status.message());
    }
    assert!(list_events(client).await.is_empty());
    assert!(list_held(client).await.is_empty());

    // In a bulk load, the bad rows are rejected with their field and the good rows are recorded.
    let mut rows = common::register("refused", 8);
    rows[1] = EventInput {
        idempotency_key: "refused-1".into(),
        ..no_letters
    };
    rows[3] = EventInput {
        idempotency_key: "refused-3".into(),
        ..bare_zone
    };
    rows[5] = EventInput {
        idempotency_key: "refused-5".into(),
        ..legal_form_only
    };
    let mut stream = client
        .load_events(tokio_stream::iter([pb::LoadEventsRequest {
            load_id: "refused-names".into(),
            start_offset: 0,
            expected_content_digest: String::new(),
            rows,
        }]))
        .await
        .expect("the batch is not refused as a whole")
        .into_inner();
    let ack = stream
        .next()
        .await
        .expect("an acknowledgement")
        .expect("not UNAVAILABLE");
    assert_eq!((ack.offset_reached, ack.accepted, ack.rejected, ack.held), (8, 5, 3, 0));
    let fields: Vec<&str> = ack
        .issues
        .iter()
        .flat_map(|i| i.field_violations.iter().map(|v| v.field.as_str()))
        .collect();
    assert_eq!(fields, ["rows[1].investor", "rows[3].zone", "rows[5].investor"]);
    assert!(ack.issues.iter().all(|i| i.outcome() == Outcome::Rejected));

    let events = list_events(client).await;
    let mut keys: Vec<&str> = events.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["refused-0", "refused-2", "refused-4", "refused-6", "refused-7"]);
    assert!(list_held(client).await.is_empty(), "nothing else stored");
}

#[tokio::test]
async fn a_held_row_resent_with_other_content_is_a_conflict_and_stays_as_it_was() {
    let mut system = common::start().await;
    let client = &mut system.client;

    let original = common::new_project("held-key", "Atlantis", "1000");
    let held = submit(client, original.clone()).await.unwrap();
    assert_eq!(held.outcome(), Outcome::Held);
    let held_row = held.held_row.expect("held row");
    assert_eq!(held_row.reason(), HoldReason::UnknownProvince);

    // Same key, other content: ALREADY_EXISTS with IDEMPOTENCY_KEY_REUSED; the held row is unchanged.
    let mut changed = original.clone();
    changed.amount = "2000".into();
    let status = submit(client, changed.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    let info = status.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(
        info.metadata.get("idempotency_key").map(String::as_str),
        Some("held-key")
    );
    assert_eq!(info.metadata.get("held_row"), Some(&held_row.name));

    // Other content in a bulk load: a CONFLICT row issue; the other row goes on.
    let mut stream = client
        .load_events(tokio_stream::iter([pb::LoadEventsRequest {
            load_id: "held-conflict".into(),
            start_offset: 0,
            expected_content_digest: String::new(),
            rows: vec![changed, common::new_project("fine", "Bắc Ninh", "10")],
        }]))
        .await
        .unwrap()
        .into_inner();
    let ack = stream.next().await.expect("an acknowledgement").unwrap();
    assert_eq!((ack.accepted, ack.held, ack.rejected), (1, 0, 1));
    assert_eq!(ack.issues.len(), 1);
    assert_eq!(ack.issues[0].offset, 0);
    assert_eq!(ack.issues[0].outcome(), Outcome::Conflict);
    assert!(
        ack.issues[0].reason.contains(&held_row.name),
        "{}",
        ack.issues[0].reason
    );

    let listed = list_held(client).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, held_row.name);
    assert_eq!(
        listed[0].row.as_ref().unwrap().amount,
        "1000",
        "the original content is kept"
    );
    assert_eq!(listed[0].attempts, 1, "a refused row does not count as an attempt");
    assert_eq!(listed[0].update_time, held_row.update_time);

    // Same key, same content (formatting aside): nothing changes, the row is reported held as before.
    let mut same = original.clone();
    same.amount = "1000.0".into();
    same.province = "  Atlantis ".into();
    let again = submit(client, same).await.unwrap();
    assert_eq!(again.outcome(), Outcome::Held);
    assert_eq!(again.held_row.expect("held row").name, held_row.name);
    let listed = list_held(client).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].row.as_ref().unwrap().amount, "1000");
    assert_eq!(
        list_events(client).await.len(),
        1,
        "only the other bulk row is recorded"
    );
}
