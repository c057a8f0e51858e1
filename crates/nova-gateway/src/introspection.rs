//! Standard introspection under its own depth bound.
//!
//! The query GraphiQL, graphql-js `getIntrospectionQuery`, Apollo, Postman and code
//! generators send nests `ofType` seven to nine levels deep, past the depth limit that
//! keeps data queries cheap. A document whose every operation is a query selecting only
//! `__schema`, `__type` or `__typename` at the top cannot reach a resolver (introspection
//! types lead nowhere else), so it is validated against [`INTROSPECTION_MAX_DEPTH`]
//! instead; every other document keeps the ordinary limits.

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};

/// Depth allowed for introspection-only documents (graphql-js's full query is 14 deep).
pub const INTROSPECTION_MAX_DEPTH: usize = 16;

/// Whether `query` only introspects the schema: every operation is a query whose
/// top-level selections are `__schema`, `__type` or `__typename` fields.
pub fn is_introspection_only(query: &str) -> bool {
    // Cheap refusal first: most documents never mention the introspection fields.
    if !query.contains("__schema") && !query.contains("__type") {
        return false;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let only_introspection = |op: &async_graphql::parser::types::OperationDefinition| {
        op.ty == OperationType::Query
            && op
                .selection_set
                .node
                .items
                .iter()
                .all(|item| match &item.node {
                    Selection::Field(field) => matches!(
                        field.node.name.node.as_str(),
                        "__schema" | "__type" | "__typename"
                    ),
                    // Fragments at the top could select data fields: not introspection-only.
                    Selection::FragmentSpread(_) | Selection::InlineFragment(_) => false,
                })
    };
    match &document.operations {
        DocumentOperations::Single(op) => only_introspection(&op.node),
        DocumentOperations::Multiple(ops) => ops.values().all(|op| only_introspection(&op.node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pure_introspection_documents_qualify() {
        assert!(is_introspection_only("{ __schema { types { name } } }"));
        assert!(is_introspection_only(
            "query A { __type(name: \"Post\") { name } } query B { __typename }"
        ));
        assert!(!is_introspection_only(
            "{ __schema { types { name } } viewer { id } }"
        ));
        assert!(!is_introspection_only(
            "{ ...F } fragment F on Query { __schema { description } }"
        ));
        assert!(!is_introspection_only("mutation { __typename }"));
        assert!(!is_introspection_only("{ viewer { id } }"));
        assert!(!is_introspection_only("{ __schema { "));
    }
}
