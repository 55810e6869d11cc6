//! Generated code of the FDI Atlas gRPC contracts (`proto/`), one module per
//! protobuf package, and the descriptor set served by reflection.

#![allow(clippy::pedantic, missing_docs, reason = "generated code")]

/// Encoded `FileDescriptorSet` of every FDI Atlas proto with its imports and comments.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fdi_descriptor.bin"));

pub mod google {
    pub mod r#type {
        include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
    }
}

pub mod fdi {
    pub mod common {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/fdi.common.v1.rs"));
        }
    }
    pub mod catalogue {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/fdi.catalogue.v1.rs"));
        }
    }
    pub mod ingest {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/fdi.ingest.v1.rs"));
        }
    }
    pub mod analytics {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/fdi.analytics.v1.rs"));
        }
    }
    pub mod access {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/fdi.access.v1.rs"));
        }
    }
}

pub use fdi::{
    access::v1 as access, analytics::v1 as analytics, catalogue::v1 as catalogue, common::v1 as common,
    ingest::v1 as ingest,
};
pub use google::r#type::{Date, Money};
