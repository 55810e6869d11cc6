//! Compiles the protobuf contracts under `proto/` with protox (no system
//! `protoc` needed) and writes the descriptor set that server reflection
//! serves, with source info so `grpcurl describe` shows the comments.

use std::{env, fs, path::PathBuf};

use prost::Message;

const SERVICE_FILES: &[&str] = &[
    "fdi/common/v1/common.proto",
    "fdi/catalogue/v1/catalogue_service.proto",
    "fdi/ingest/v1/ingest_service.proto",
    "fdi/analytics/v1/analytics_service.proto",
    "fdi/access/v1/access_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(SERVICE_FILES)?;
    let full_set = compiler.file_descriptor_set();

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("fdi_descriptor.bin"), full_set.encode_to_vec())?;

    // The well-known types (google.protobuf) map to prost-types by default.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(full_set)?;
    Ok(())
}
