//! `sqlx::migrate!` embeds the migration files at compile time; without this, adding a
//! migration would not rebuild nova-db and binaries would ship the old set.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
