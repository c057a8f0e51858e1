//! # nova-proto
//!
//! Nova's gRPC contracts: Rust types and tonic clients/servers generated from every
//! `.proto` file under the workspace's `proto/` directory (`proto/nova/<domain>/v1/*.proto`).
//! Each protobuf package becomes a module path, e.g. `nova.common.v1` is
//! [`nova::common::v1`]. A new domain only adds its `.proto` files; the build script finds
//! them and the module tree below grows by itself.
//!
//! [`FILE_DESCRIPTOR_SET`] holds the encoded descriptors of all of them, for gRPC
//! reflection (`nova-runtime` registers it).
//!
//! ```
//! use nova_proto::nova::common::v1::{PageInfo, PageRequest};
//! use prost::Message;
//!
//! let page = PageInfo { end_cursor: "abc".into(), has_next_page: true };
//! let bytes = page.encode_to_vec();
//! assert_eq!(PageInfo::decode(bytes.as_slice())?, page);
//!
//! // Unset fields decode to their defaults: first page, server's page size.
//! assert_eq!(PageRequest::decode(&[][..])?, PageRequest { first: 0, after: String::new() });
//! # Ok::<(), prost::DecodeError>(())
//! ```

/// Generated code; its items carry the comments written in the `.proto` files, and a
/// `.proto` without comments must not break the build.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/_includes.rs"));
}

pub use generated::*;

/// Encoded `google.protobuf.FileDescriptorSet` of every Nova `.proto` file, for
/// gRPC reflection (`tonic_reflection::server::Builder::register_encoded_file_descriptor_set`).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nova_descriptor.bin"));

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn descriptor_set_lists_common_package() {
        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        assert!(
            set.file
                .iter()
                .any(|f| f.package.as_deref() == Some("nova.common.v1"))
        );
    }

    #[test]
    fn event_envelope_round_trips() {
        let envelope = nova::common::v1::EventEnvelope {
            id: "0190a0a0-0000-7000-8000-000000000000".into(),
            event_type: "content.post_created.v1".into(),
            aggregate_id: "post-1".into(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            payload: vec![1, 2, 3],
        };
        let decoded =
            nova::common::v1::EventEnvelope::decode(envelope.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, envelope);
    }
}
