// Starts GraphiQL on the vendored UMD bundles (React 18 + GraphiQL 3): queries and
// mutations POST to /graphql, subscriptions use graphql-transport-ws on /graphql/ws.
(function () {
  'use strict';
  var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: scheme + window.location.host + '/graphql/ws',
  });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: true,
    }),
  );
})();
