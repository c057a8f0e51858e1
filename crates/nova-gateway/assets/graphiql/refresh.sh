#!/usr/bin/env bash
# Refreshes GraphiQL's vendored assets from the npm registry (npm verifies each tarball
# against the registry's integrity hash), then records their SHA-256 sums, which
# `graphiql::tests::vendored_assets_match_their_recorded_checksums` checks.
# Usage: crates/nova-gateway/assets/graphiql/refresh.sh [graphiql-version]
# GraphiQL 3 is the last line with a UMD build; React 18 the last with UMD files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
graphiql="${1:-3.9.0}"
react="18.3.1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$graphiql" "react@$react" "react-dom@$react" >/dev/null
for tgz in *.tgz; do mkdir "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
cp "graphiql-$graphiql/package/graphiql.min.js" "graphiql-$graphiql/package/graphiql.min.css" "$here/"
cp "graphiql-$graphiql/package/LICENSE" "$here/LICENSE.graphiql"
cp "react-$react/package/umd/react.production.min.js" "$here/"
cp "react-$react/package/LICENSE" "$here/LICENSE.react"
cp "react-dom-$react/package/umd/react-dom.production.min.js" "$here/"
cp "react-dom-$react/package/LICENSE" "$here/LICENSE.react-dom"
# The sourcemap comments name files that are not served.
sed -i '/^\/\/# sourceMappingURL=/d' "$here/graphiql.min.js"
cd "$here"
printf 'graphiql %s, react %s, react-dom %s (npm)\n' "$graphiql" "$react" "$react" > VERSIONS
sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS
echo "refreshed: $(cat VERSIONS)"
