//! A property test over every RPC of every service: random requests that are
//! valid protobuf (built from the contracts' own descriptors, so a new RPC or
//! field is fuzzed without touching this file) must never be answered with
//! `INTERNAL`, `UNKNOWN`, `DATA_LOSS` or (all services being up) `UNAVAILABLE`, must never panic anywhere in the
//! process (handlers, background tasks), and must leave every service SERVING.
//!
//! Values lean on what breaks services: empty and very long text, ligatures
//! that fold to a few letters, resource names that almost resolve, extreme
//! and negative numbers, NaN, unknown enum numbers, deep and repeated
//! messages. The run is reproducible: `FDI_FUZZ_SEED` picks the seed (fixed by
//! default so CI is stable) and `FDI_FUZZ_CASES` the cases per RPC; a failure
//! is shrunk by proptest to a small request and printed.

mod common;

use std::{
    cell::RefCell,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use fdi_kit::access::Bearer;
use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner},
};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor, Value,
};
use tonic::{Code, Status, transport::Channel};

/// The packages whose services are fuzzed (health and reflection are the kit's, not ours).
const PACKAGES: [&str; 4] = ["fdi.catalogue.v1", "fdi.ingest.v1", "fdi.analytics.v1", "fdi.access.v1"];

/// Statuses that mean the service failed rather than the request.
/// UNAVAILABLE counts too: all three services are up, so it means a dependency refused what a service passed on.
const FAILURES: [Code; 4] = [Code::Internal, Code::Unknown, Code::DataLoss, Code::Unavailable];

/// The seed CI runs with; set `FDI_FUZZ_SEED` to explore others.
const DEFAULT_SEED: u32 = 20_261_203;

/// How deep random messages nest.
const MAX_DEPTH: usize = 3;

/// Text a careless or hostile client sends: names that almost resolve, codes, injections, oversized text.
const AWKWARD_TEXT: &[&str] = &[
    "",
    " ",
    "provinces/bac-ninh",
    "provinces/bac-giang",
    "provinces/ha-noi",
    "provinces/",
    "provinces/../zones",
    "bac-ninh",
    "Bắc Ninh",
    "Bac Giang province",
    "KCN Quang Châu",
    "zones/",
    "zones/quang-chau",
    "investors/",
    "investors/1",
    "documents/1",
    "loads/x",
    "USD",
    "VND",
    "EUR",
    "fdi",
    "ddi",
    "new",
    "total_capital",
    "2025-07-01",
    "2025-13-45",
    "status",
    "display_name,province",
    "*",
    "-1",
    "0.5",
    "7e28",
    "99999999999999999999999999999",
    "NaN",
    "1e400",
    "!!!",
    "%_\\",
    "'; DROP TABLE ingest.events; --",
    "\u{0}",
    "\u{202e}evil",
    "ЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁ",
];

#[test]
fn random_valid_requests_never_fail_the_service() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let panics = record_panics();
    let system = runtime.block_on(start_with_data());
    let pool = DescriptorPool::decode(fdi_proto::FILE_DESCRIPTOR_SET).unwrap();
    let endpoints: HashMap<&str, String> = HashMap::from([
        (PACKAGES[0], system.catalogue.endpoint()),
        (PACKAGES[1], system.ingest.endpoint()),
        (PACKAGES[2], system.analytics.endpoint()),
        (PACKAGES[3], system.catalogue.endpoint()),
    ]);
    let mut fuzzed = 0;
    let answers = RefCell::new(HashMap::new());
    for service in pool.services().filter(|s| PACKAGES.contains(&s.package_name())) {
        let channel = runtime
            .block_on(
                Channel::from_shared(endpoints[service.package_name()].clone())
                    .unwrap()
                    .connect(),
            )
            .unwrap();
        for method in service.methods() {
            fuzz_method(&runtime, &channel, &method, &answers);
            fuzzed += 1;
        }
    }
    assert!(fuzzed >= 30, "only {fuzzed} RPCs found in the descriptors");
    let answers = answers.into_inner();
    eprintln!("{fuzzed} RPCs fuzzed; answers: {answers:?}");
    // Random requests must get past validation often enough to exercise the stores too.
    assert!(
        answers.get(&Code::Ok).copied().unwrap_or_default() >= 100,
        "{answers:?}"
    );
    let seen = panics.lock().unwrap().clone();
    assert!(seen.is_empty(), "panics during the fuzzing: {seen:#?}");
    runtime.block_on(async {
        for (endpoint, service) in system.health_checks() {
            let status = fdi_testkit::health_status(&endpoint, service).await;
            assert_eq!(
                status,
                Some(fdi_testkit::ServingStatus::Serving),
                "{service} after the fuzzing"
            );
        }
    });
    drop(system);
}

/// Runs the property for one RPC, failing the test with the shrunk request.
fn fuzz_method(
    runtime: &tokio::runtime::Runtime,
    channel: &Channel,
    method: &MethodDescriptor,
    answers: &RefCell<HashMap<Code, usize>>,
) {
    let strategy = message(&method.input(), 0);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: env_number("FDI_FUZZ_CASES", 64),
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(method.full_name())),
    );
    let result = runner.run(&strategy, |request| {
        let outcome = runtime.block_on(common::call(channel.clone(), method, request, &Bearer::default()));
        *answers
            .borrow_mut()
            .entry(outcome.as_ref().map_or_else(Status::code, |()| Code::Ok))
            .or_default() += 1;
        match outcome {
            Err(status) if FAILURES.contains(&status.code()) => Err(TestCaseError::fail(format!(
                "{} answered {:?}: {}",
                method.full_name(),
                status.code(),
                status.message()
            ))),
            _ => Ok(()),
        }
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, request)) => panic!(
            "{reason}\nsmallest failing request (seed {}): {}",
            env_number("FDI_FUZZ_SEED", DEFAULT_SEED),
            fdi_kit::status::shorten(&request.to_text_format(), 3_000)
        ),
        Err(TestError::Abort(reason)) => panic!("{}: {reason}", method.full_name()),
    }
}

/// Random messages of `descriptor`: each field present or not, values from [`single_value`].
fn message(descriptor: &MessageDescriptor, depth: usize) -> BoxedStrategy<DynamicMessage> {
    let empty = DynamicMessage::new(descriptor.clone());
    if depth > MAX_DEPTH {
        return Just(empty).boxed();
    }
    let fields: Vec<BoxedStrategy<Option<(u32, Value)>>> = descriptor
        .fields()
        .filter(|field| !field.is_map())
        .map(|field| {
            let number = field.number();
            proptest::option::weighted(0.7, field_value(&field, depth))
                .prop_map(move |value| value.map(|value| (number, value)))
                .boxed()
        })
        .collect();
    fields
        .prop_map(move |values| {
            let mut message = empty.clone();
            for (number, value) in values.into_iter().flatten() {
                message.set_field_by_number(number, value);
            }
            message
        })
        .boxed()
}

fn field_value(field: &FieldDescriptor, depth: usize) -> BoxedStrategy<Value> {
    let single = single_value(&field.kind(), depth);
    if field.is_list() {
        proptest::collection::vec(single, 0..4).prop_map(Value::List).boxed()
    } else {
        single
    }
}

fn single_value(kind: &Kind, depth: usize) -> BoxedStrategy<Value> {
    match kind {
        Kind::String => text().prop_map(Value::String).boxed(),
        Kind::Bytes => proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|bytes| Value::Bytes(bytes.into()))
            .boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => int32().prop_map(Value::I32).boxed(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => int64().prop_map(Value::I64).boxed(),
        Kind::Uint32 | Kind::Fixed32 => prop_oneof![0..2100u32, Just(u32::MAX), any::<u32>()]
            .prop_map(Value::U32)
            .boxed(),
        Kind::Uint64 | Kind::Fixed64 => prop_oneof![0..2100u64, Just(u64::MAX), any::<u64>()]
            .prop_map(Value::U64)
            .boxed(),
        Kind::Float => prop_oneof![Just(0.0f32), Just(f32::NAN), Just(f32::INFINITY), any::<f32>()]
            .prop_map(Value::F32)
            .boxed(),
        Kind::Double => prop_oneof![Just(0.0f64), Just(f64::NAN), Just(f64::NEG_INFINITY), any::<f64>()]
            .prop_map(Value::F64)
            .boxed(),
        Kind::Enum(descriptor) => {
            let numbers: Vec<i32> = descriptor.values().map(|value| value.number()).collect();
            prop_oneof![5 => proptest::sample::select(numbers), 1 => Just(99), 1 => Just(-1)]
                .prop_map(Value::EnumNumber)
                .boxed()
        }
        Kind::Message(descriptor) => message(descriptor, depth + 1).prop_map(Value::Message).boxed(),
    }
}

/// Small counts, years, months and days, and the extremes.
fn int32() -> impl Strategy<Value = i32> {
    prop_oneof![3 => 0..32i32, 3 => 1985..2031i32, 1 => Just(i32::MAX), 1 => Just(i32::MIN), 1 => Just(-1), 2 => any::<i32>()]
}

/// Amounts, nanos and the extremes.
fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 0..1000i64, 2 => 1_000_000..10_000_000_000i64, 1 => Just(i64::MAX), 1 => Just(i64::MIN), 2 => any::<i64>()]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(AWKWARD_TEXT).prop_map(str::to_owned),
        3 => "[a-z0-9/ -]{0,24}",
        3 => "\\PC{0,24}",
        1 => Just("ﬃ".repeat(490)),
        1 => Just("x".repeat(20_000)),
    ]
}

/// The three services with a small register loaded, so reads and resolutions meet real rows.
async fn start_with_data() -> common::Services {
    let system = common::start().await;
    let events: Vec<_> = fdi_client::demo::generate(fdi_client::demo::DemoConfig {
        events: 300,
        ..Default::default()
    })
    .collect();
    let open: fdi_client::loader::OpenRows = Box::new(move |offset| {
        Ok(Box::new(
            events.clone().into_iter().skip(usize::try_from(offset).unwrap()),
        ))
    });
    let options = fdi_client::loader::LoadOptions::new(system.ingest.endpoint(), "fuzz-seed");
    let summary = fdi_client::loader::load(&options, open, &mut |_| {}).await.unwrap();
    assert_eq!(summary.offset_reached, 300);
    system
}

/// Collects every panic message of the process (handlers and background tasks), keeping the default report.
fn record_panics() -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::clone(&seen);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        recorder
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(info.to_string());
        default_hook(info);
    }));
    seen
}

/// The run's seed for one RPC: `FDI_FUZZ_SEED` (or a fixed default) mixed with the RPC's name.
fn seed_bytes(method: &str) -> [u8; 32] {
    let base = env_number("FDI_FUZZ_SEED", DEFAULT_SEED);
    let mixed = fdi_kit::names::stable_hash(format!("{base}/{method}").into_bytes());
    let mut seed = [0u8; 32];
    for (chunk, word) in seed
        .chunks_mut(8)
        .zip([mixed, !mixed, mixed.rotate_left(17), u64::from(base)])
    {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    seed
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
