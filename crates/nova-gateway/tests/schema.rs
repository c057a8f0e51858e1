//! The checked-in `schema.graphql` is the schema the code builds (`cargo xtask schema`
//! rewrites it).

#[test]
fn checked_in_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema.graphql");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == nova_gateway::schema_sdl(),
        "{} is out of date: run `cargo xtask schema`",
        path.display()
    );
}
