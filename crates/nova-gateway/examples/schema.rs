//! Prints the gateway's GraphQL schema (SDL); `cargo xtask schema` writes it to
//! `schema.graphql`.

fn main() {
    print!("{}", nova_gateway::schema_sdl());
}
