"""What every GraphQL code generator does with a live server, done with graphql-core.

Sends graphql-js's standard introspection query (with descriptions, specifiedByURL,
isRepeatable and input-value deprecation) to URL, rebuilds the schema from the answer
with build_client_schema, and compares it with SCHEMA_FILE (both sorted, so only
meaning counts). Exit code 0 when they are the same schema; otherwise the diff.

Usage: python3 introspection_roundtrip.py URL SCHEMA_FILE
"""

import difflib
import json
import sys
import urllib.request

from graphql import (
    build_client_schema,
    build_schema,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)


def main(url: str, schema_file: str) -> int:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "operationName": "IntrospectionQuery"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("errors"):
        print("introspection refused:", json.dumps(answer["errors"]), file=sys.stderr)
        return 1
    live = print_schema(lexicographic_sort_schema(build_client_schema(answer["data"])))
    with open(schema_file, encoding="utf-8") as f:
        committed = print_schema(lexicographic_sort_schema(build_schema(f.read())))
    if live == committed:
        print(f"live schema equals {schema_file}: {len(live.splitlines())} lines")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(), live.splitlines(), schema_file, url, lineterm=""
    )
    print("\n".join(diff), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
