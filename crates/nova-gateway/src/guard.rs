//! The request guard: everything decided before a resolver runs.
//!
//! For each operation (each entry of a batch, each subscription start) the guard
//!
//! 1. scans the query text for `{ ( [` nesting deeper than `max_nesting` — before the
//!    recursive-descent parser sees it, so a 10k-deep document costs one linear scan;
//! 2. parses it once (the schema reuses the parsed document);
//! 3. measures it in one pass with fragments memoized (so a fragment "bomb" is counted,
//!    not expanded): selections, aliases, root fields, fragment-spread depth and cycles,
//!    and how many `login`, `register` and post-creating fields it has;
//! 4. charges the rate limits: one per operation for the principal and the IP, and one
//!    per such field in the login / registration / post-creation buckets (all or
//!    nothing, so 1,000 aliased logins cost 1,000 attempts, or are refused outright);
//! 5. gives the request its DataLoaders.
//!
//! Depth, complexity, directive and recursion limits are then the schema's own checks,
//! which also run before execution.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Response, ServerResult};
use nova_core::Error;
use nova_kv::edge::{Charge, EdgeGuard};

use crate::context::RequestCtx;
use crate::error::{query_rejected, server_error};
use crate::loaders::Loaders;
use crate::options::{GatewayOptions, QueryLimits};

/// The guard extension (registered on the schema).
pub(crate) struct Guard;

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension)
    }
}

struct GuardExtension;

#[async_trait::async_trait]
impl Extension for GuardExtension {
    /// Errors async-graphql raises itself (syntax, validation, depth, complexity, input
    /// coercion) are the client's: they get `BAD_USER_INPUT` like every other bad input.
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_none() {
                extensions.set(
                    "code",
                    nova_core::ErrorKind::InvalidArgument {
                        field: String::new(),
                    }
                    .graphql_code(),
                );
            }
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let options = ctx
            .data_opt::<GatewayOptions>()
            .ok_or_else(|| server_error(Error::internal("gateway options missing")))?;
        let call = request
            .data
            .get(&TypeId::of::<RequestCtx>())
            .and_then(|d| d.downcast_ref::<RequestCtx>())
            .or_else(|| ctx.data_opt::<RequestCtx>())
            .cloned()
            .ok_or_else(|| server_error(Error::internal("request context missing")))?;
        let limits = &options.query;
        check_nesting(&request.query, limits.max_nesting).map_err(server_error)?;
        let operation = request.operation_name.clone();
        let shape =
            measure(request.parsed_query()?, operation.as_deref(), limits).map_err(server_error)?;
        charge_all(&call, options, &shape)
            .await
            .map_err(server_error)?;
        request
            .data
            .insert(Loaders::new(&call.domains, call.principal.as_ref()));
        next.run(ctx, request).await
    }
}

/// Refuses text whose brackets nest deeper than `max` (strings and comments skipped).
pub(crate) fn check_nesting(query: &str, max: usize) -> Result<(), Error> {
    let bytes = query.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(query_rejected(format!("nested deeper than {max}")));
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What one document asks for, with fragments expanded (by counting, not copying).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Field selections, fragment spreads and inline fragments.
    pub nodes: u64,
    /// Aliased fields.
    pub aliases: u64,
    /// Fields at the top of the selection set.
    pub top_fields: u64,
    /// Top-level `login` / `loginTwoFactor` / `passkeyLoginFinish` fields of mutations.
    pub logins: u64,
    /// Top-level `register` fields of mutations.
    pub registrations: u64,
    /// Top-level `createPost` / `reply` / `quote` fields of mutations.
    pub posts: u64,
}

impl Shape {
    fn add(&mut self, other: &Shape, top_level: bool) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.aliases = self.aliases.saturating_add(other.aliases);
        if top_level {
            self.top_fields = self.top_fields.saturating_add(other.top_fields);
            self.logins = self.logins.saturating_add(other.logins);
            self.registrations = self.registrations.saturating_add(other.registrations);
            self.posts = self.posts.saturating_add(other.posts);
        }
    }
}

struct Measure<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'d str, Shape>,
    visiting: HashSet<&'d str>,
    max_recursion: usize,
}

impl<'d> Measure<'d> {
    fn selection_set(&mut self, set: &'d SelectionSet, depth: usize) -> Result<Shape, Error> {
        if depth > self.max_recursion {
            return Err(query_rejected(format!(
                "selections nested deeper than {}",
                self.max_recursion
            )));
        }
        let mut shape = Shape::default();
        for selection in &set.items {
            shape.nodes = shape.nodes.saturating_add(1);
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    shape.top_fields += 1;
                    shape.aliases += u64::from(field.alias.is_some());
                    match field.name.node.as_str() {
                        "login" | "loginTwoFactor" | "passkeyLoginFinish" => shape.logins += 1,
                        "register" => shape.registrations += 1,
                        "createPost" | "reply" | "quote" => shape.posts += 1,
                        _ => {}
                    }
                    let inner = self.selection_set(&field.selection_set.node, depth + 1)?;
                    shape.add(&inner, false);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.node.selection_set.node, depth + 1)?;
                    shape.add(&inner, true);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let inner = self.fragment(name, depth + 1)?;
                    shape.add(&inner, true);
                }
            }
        }
        Ok(shape)
    }

    fn fragment(&mut self, name: &'d str, depth: usize) -> Result<Shape, Error> {
        if let Some(shape) = self.memo.get(name) {
            return Ok(*shape);
        }
        // Unknown fragments are left to validation.
        let Some(fragment) = self.fragments.get(name) else {
            return Ok(Shape::default());
        };
        if !self.visiting.insert(name) {
            return Err(query_rejected(format!("fragment {name} spreads itself")));
        }
        let shape = self.selection_set(&fragment.node.selection_set.node, depth)?;
        self.visiting.remove(name);
        self.memo.insert(name, shape);
        Ok(shape)
    }
}

/// Measures the operations that may run (the named one, else all) against `limits`.
pub(crate) fn measure(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &QueryLimits,
) -> Result<Shape, Error> {
    let mut m = Measure {
        fragments: &doc.fragments,
        memo: HashMap::new(),
        visiting: HashSet::new(),
        max_recursion: limits.max_recursion,
    };
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops
            .iter()
            .filter(|(name, _)| operation_name.is_none_or(|n| n == name.as_str()))
            .map(|(_, op)| op)
            .collect(),
    };
    let mut total = Shape::default();
    for op in operations {
        let mut shape = m.selection_set(&op.node.selection_set.node, 0)?;
        if shape.top_fields > limits.max_root_fields as u64 {
            return Err(query_rejected(format!(
                "more than {} root fields",
                limits.max_root_fields
            )));
        }
        if op.node.ty != OperationType::Mutation {
            (shape.logins, shape.registrations, shape.posts) = (0, 0, 0);
        }
        total.add(&shape, true);
    }
    if total.aliases > limits.max_aliases as u64 {
        return Err(query_rejected(format!(
            "more than {} aliases",
            limits.max_aliases
        )));
    }
    if total.nodes > limits.max_fields as u64 {
        return Err(query_rejected(format!(
            "more than {} selections once fragments are expanded",
            limits.max_fields
        )));
    }
    Ok(total)
}

/// Charges the edge limits every door shares (nova-kv's `edge`): one operation, plus
/// this document's login / registration / post-creation attempts.
async fn charge_all(
    call: &RequestCtx,
    options: &GatewayOptions,
    shape: &Shape,
) -> Result<(), Error> {
    let guard = EdgeGuard::new(call.domains.limits.clone(), options.rates);
    let charge = Charge {
        operations: 1,
        logins: shape.logins,
        registrations: shape.registrations,
        posts: shape.posts,
    };
    let principal = call.principal.as_ref().map(|p| p.user_id);
    guard.charge(call.ip, principal, charge).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> Result<Shape, Error> {
        check_nesting(query, 32)?;
        let doc = async_graphql::parser::parse_query(query).unwrap();
        measure(&doc, None, &QueryLimits::default())
    }

    #[test]
    fn nesting_scan_skips_strings_and_comments() {
        assert!(check_nesting(r#"{ a(s: "{{{{{{") }"#, 3).is_ok());
        assert!(check_nesting("{ a # {{{{{{\n }", 3).is_ok());
        assert!(check_nesting(r#"{ a(s: """ {{{{ \""" {{{{ """) }"#, 3).is_ok());
        assert!(check_nesting("{ a { b { c { d } } } }", 3).is_err());
        let deep = format!("{}{}", "{a".repeat(10_000), "}".repeat(10_000));
        assert!(check_nesting(&deep, 32).is_err());
    }

    #[test]
    fn counts_attempts_through_aliases_and_fragments() {
        let s = shape(
            "mutation { a: login(identifier: \"x\", password: \"y\") { tokens { accessToken } } \
             ...L } fragment L on Mutation { b: login(identifier: \"x\", password: \"z\") { tokens { accessToken } } }",
        )
        .unwrap();
        assert_eq!((s.logins, s.aliases, s.top_fields), (2, 2, 2));
        // The same fields in a query are not attempts (they would fail validation anyway).
        assert_eq!(shape("{ viewer { id } }").unwrap().logins, 0);
    }

    #[test]
    fn fragment_bombs_chains_and_cycles_are_refused_without_expanding() {
        let mut bomb = String::from("{ ...F0 }\n");
        for i in 0..40 {
            bomb.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        bomb.push_str("fragment F40 on Query { viewer { id } }");
        assert!(shape(&bomb).is_err());

        let mut chain = String::from("{ ...F0 }\n");
        for i in 0..10_000 {
            chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        chain.push_str("fragment F10000 on Query { viewer { id } }");
        assert!(shape(&chain).is_err());

        assert!(
            shape("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }").is_err()
        );
    }
}
