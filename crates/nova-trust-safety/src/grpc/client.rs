//! [`TrustSafetyGrpcClient`]: [`TrustSafetyApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::channel::ServiceChannel;
use nova_core::{Error, Principal, Result, UserId};
use nova_proto::nova::trustsafety::v1 as pb;
use pb::trust_safety_service_client::TrustSafetyServiceClient;
use tonic::transport::Endpoint;

use super::convert;
use crate::api::TrustSafetyApi;
use crate::model::{
    Action, ActionId, Appeal, AppealId, AuditEntry, AuditQuery, CheckInput, NewAction, NewReport,
    QueueFilter, QueueItem, Report, Rule, RuleDraft, RuleId, Strike, Target, Verdict,
};

/// [`TrustSafetyApi`] implemented by calling a remote trust & safety service over gRPC.
///
/// Cloning is cheap and shares the connection. Methods taking a `&Principal` send the
/// token set with [`with_token`](Self::with_token); without one they fail with
/// `Unauthenticated` before any call.
#[derive(Clone)]
pub struct TrustSafetyGrpcClient {
    inner: TrustSafetyServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for TrustSafetyGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustSafetyGrpcClient")
            .finish_non_exhaustive()
    }
}

impl TrustSafetyGrpcClient {
    /// Connects to `endpoint` (e.g. `http://trust-safety-service:9095`); `Unavailable` if
    /// the address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client that connects on first use; `InvalidArgument` naming `endpoint` if the
    /// address is malformed.
    pub fn connect_lazy(endpoint: impl Into<String>) -> Result<Self> {
        let endpoint = Endpoint::from_shared(endpoint.into())
            .map_err(|_| Error::invalid("endpoint", "is not a URL"))?;
        Ok(Self::from_channel(endpoint.connect_lazy()))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: TrustSafetyServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` with every call acting for a
    /// principal (it shares the connection).
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn authed<T>(&self, principal: &Principal, message: T) -> Result<tonic::Request<T>> {
        bearer_request(self.token.as_deref(), principal, message)
    }

    fn rpc(&self) -> TrustSafetyServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

fn collect<P, T>(items: Vec<P>, f: impl Fn(P) -> Result<T>) -> Result<Vec<T>> {
    items.into_iter().map(f).collect()
}

#[async_trait]
impl TrustSafetyApi for TrustSafetyGrpcClient {
    async fn report(&self, reporter: &Principal, report: NewReport) -> Result<Report> {
        let request = self.authed(reporter, convert::new_report(&report))?;
        convert::report_from(self.rpc().file_report(request).await?.into_inner())
    }

    async fn my_reports(&self, reporter: &Principal) -> Result<Vec<Report>> {
        let request = self.authed(reporter, pb::MyReportsRequest {})?;
        let r = self.rpc().my_reports(request).await?.into_inner();
        collect(r.reports, convert::report_from)
    }

    async fn strikes(&self, user: &Principal) -> Result<Vec<Strike>> {
        let request = self.authed(user, pb::MyStrikesRequest {})?;
        let r = self.rpc().my_strikes(request).await?.into_inner();
        collect(r.strikes, convert::strike_from)
    }

    async fn appeal(&self, user: &Principal, action: ActionId, text: &str) -> Result<Appeal> {
        let message = pb::FileAppealRequest {
            action_id: action.to_string(),
            text: text.to_owned(),
        };
        let request = self.authed(user, message)?;
        convert::appeal_from(self.rpc().file_appeal(request).await?.into_inner())
    }

    async fn queue(
        &self,
        moderator: &Principal,
        filter: QueueFilter,
        limit: u32,
    ) -> Result<Vec<QueueItem>> {
        let message = pb::QueueRequest {
            filter: convert::queue_filter(filter).into(),
            limit,
        };
        let request = self.authed(moderator, message)?;
        let r = self.rpc().queue(request).await?.into_inner();
        collect(r.items, convert::queue_item_from)
    }

    async fn target_reports(&self, moderator: &Principal, target: Target) -> Result<Vec<Report>> {
        let message = pb::TargetRequest {
            target: Some(convert::target(&target)),
        };
        let request = self.authed(moderator, message)?;
        let r = self.rpc().target_reports(request).await?.into_inner();
        collect(r.reports, convert::report_from)
    }

    async fn assign(
        &self,
        moderator: &Principal,
        target: Target,
        assignee: Option<UserId>,
    ) -> Result<()> {
        let message = pb::AssignRequest {
            target: Some(convert::target(&target)),
            assignee_id: assignee.map(|a| a.to_string()).unwrap_or_default(),
        };
        let request = self.authed(moderator, message)?;
        self.rpc().assign(request).await?;
        Ok(())
    }

    async fn escalate(&self, moderator: &Principal, target: Target, note: &str) -> Result<()> {
        let message = pb::EscalateRequest {
            target: Some(convert::target(&target)),
            note: note.to_owned(),
        };
        let request = self.authed(moderator, message)?;
        self.rpc().escalate(request).await?;
        Ok(())
    }

    async fn dismiss(&self, moderator: &Principal, target: Target, note: &str) -> Result<u64> {
        let message = pb::DismissRequest {
            target: Some(convert::target(&target)),
            note: note.to_owned(),
        };
        let request = self.authed(moderator, message)?;
        Ok(self.rpc().dismiss(request).await?.into_inner().dismissed)
    }

    async fn take_action(&self, moderator: &Principal, action: NewAction) -> Result<Action> {
        let request = self.authed(moderator, convert::new_action(&action))?;
        convert::action_from(self.rpc().take_action(request).await?.into_inner())
    }

    async fn reverse_action(
        &self,
        moderator: &Principal,
        action: ActionId,
        note: &str,
    ) -> Result<Action> {
        let message = pb::ReverseActionRequest {
            action_id: action.to_string(),
            note: note.to_owned(),
        };
        let request = self.authed(moderator, message)?;
        convert::action_from(self.rpc().reverse_action(request).await?.into_inner())
    }

    async fn pending_appeals(&self, moderator: &Principal, limit: u32) -> Result<Vec<Appeal>> {
        let request = self.authed(moderator, pb::PendingAppealsRequest { limit })?;
        let r = self.rpc().pending_appeals(request).await?.into_inner();
        collect(r.appeals, convert::appeal_from)
    }

    async fn decide_appeal(
        &self,
        moderator: &Principal,
        appeal: AppealId,
        grant: bool,
        note: &str,
    ) -> Result<Appeal> {
        let message = pb::DecideAppealRequest {
            appeal_id: appeal.to_string(),
            grant,
            note: note.to_owned(),
        };
        let request = self.authed(moderator, message)?;
        convert::appeal_from(self.rpc().decide_appeal(request).await?.into_inner())
    }

    async fn audit(&self, moderator: &Principal, query: AuditQuery) -> Result<Vec<AuditEntry>> {
        let message = pb::AuditRequest {
            subject: query.subject.unwrap_or_default(),
            before: query.before.map(|b| b.to_string()).unwrap_or_default(),
            limit: query.limit.unwrap_or(0),
        };
        let request = self.authed(moderator, message)?;
        let r = self.rpc().audit(request).await?.into_inner();
        collect(r.entries, convert::audit_entry_from)
    }

    async fn rules(&self, moderator: &Principal) -> Result<Vec<Rule>> {
        let request = self.authed(moderator, pb::RulesRequest {})?;
        let r = self.rpc().rules(request).await?.into_inner();
        collect(r.rules, convert::rule_from)
    }

    async fn save_rule(&self, moderator: &Principal, draft: RuleDraft) -> Result<Rule> {
        let request = self.authed(moderator, convert::draft(&draft)?)?;
        convert::rule_from(self.rpc().save_rule(request).await?.into_inner())
    }

    async fn rule_history(&self, moderator: &Principal, rule: RuleId) -> Result<Vec<Rule>> {
        let message = pb::RuleHistoryRequest {
            rule_id: rule.to_string(),
        };
        let request = self.authed(moderator, message)?;
        let r = self.rpc().rule_history(request).await?.into_inner();
        collect(r.rules, convert::rule_from)
    }

    async fn check(&self, input: CheckInput) -> Result<Verdict> {
        let r = self
            .rpc()
            .check(convert::check_input(&input))
            .await?
            .into_inner();
        convert::verdict_from(r)
    }

    async fn hold(&self, target: Target, subject: UserId, reason: &str) -> Result<Action> {
        let message = pb::HoldRequest {
            target: Some(convert::target(&target)),
            subject_id: subject.to_string(),
            reason: reason.to_owned(),
        };
        convert::action_from(self.rpc().hold(message).await?.into_inner())
    }

    async fn actions_in_force(&self, targets: &[Target]) -> Result<Vec<Action>> {
        let message = pb::ActionsInForceRequest {
            targets: targets.iter().map(convert::target).collect(),
        };
        let r = self.rpc().actions_in_force(message).await?.into_inner();
        collect(r.actions, convert::action_from)
    }
}
