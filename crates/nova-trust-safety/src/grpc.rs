//! gRPC adapters for [`TrustSafetyApi`]: [`TrustSafetyGrpcServer`] serves any
//! implementation (normally [`TrustSafetyService`](crate::TrustSafetyService)) as
//! `nova.trustsafety.v1.TrustSafetyService`, and [`TrustSafetyGrpcClient`] implements
//! [`TrustSafetyApi`] over the network.
//!
//! Methods taking a `&Principal` carry the caller's access token
//! (`authorization: Bearer`); the server authenticates it with its [`Authenticator`] and
//! the service checks the moderator scopes of the principal *it* verified. `Check` and
//! `ActionsInForce` (for other domains) need no token.

mod client;
pub(crate) mod convert;

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{Authenticator, authenticate_metadata};
use nova_core::error::{GrpcResult, cap, grpc_answer};

pub use crate::service::TARGETS_MAX as MAX_TARGETS;
use nova_core::{Principal, Result};
use nova_proto::nova::trustsafety::v1 as pb;
use pb::trust_safety_service_server::{
    TrustSafetyService as GrpcTrustSafety, TrustSafetyServiceServer,
};
use tonic::Request;
use tonic::metadata::MetadataMap;

pub use client::TrustSafetyGrpcClient;

use crate::api::TrustSafetyApi;
use crate::model::AuditQuery;

/// Serves a [`TrustSafetyApi`] as the `nova.trustsafety.v1.TrustSafetyService` gRPC service.
#[derive(Clone)]
pub struct TrustSafetyGrpcServer {
    api: Arc<dyn TrustSafetyApi>,
    auth: Arc<dyn Authenticator>,
}

impl TrustSafetyGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn TrustSafetyApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> TrustSafetyServiceServer<Self> {
        TrustSafetyServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }
}

#[async_trait]
impl GrpcTrustSafety for TrustSafetyGrpcServer {
    async fn file_report(&self, request: Request<pb::FileReportRequest>) -> GrpcResult<pb::Report> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let new = convert::new_report_from(request.into_inner())?;
            self.api.report(&p, new).await.map(|r| convert::report(&r))
        };
        grpc_answer(result.await)
    }

    async fn my_reports(
        &self,
        request: Request<pb::MyReportsRequest>,
    ) -> GrpcResult<pb::ReportList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let reports = self.api.my_reports(&p).await?;
            Ok(pb::ReportList {
                reports: reports.iter().map(convert::report).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn my_strikes(
        &self,
        request: Request<pb::MyStrikesRequest>,
    ) -> GrpcResult<pb::StrikeList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let strikes = self.api.strikes(&p).await?;
            Ok(pb::StrikeList {
                strikes: strikes.iter().map(convert::strike).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn file_appeal(&self, request: Request<pb::FileAppealRequest>) -> GrpcResult<pb::Appeal> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let action = convert::id_arg(&r.action_id, "action_id")?;
            self.api
                .appeal(&p, action, &r.text)
                .await
                .map(|a| convert::appeal(&a))
        };
        grpc_answer(result.await)
    }

    async fn queue(&self, request: Request<pb::QueueRequest>) -> GrpcResult<pb::QueueResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let filter = convert::queue_filter_from(&r.filter)?;
            let items = self.api.queue(&p, filter, r.limit).await?;
            Ok(pb::QueueResponse {
                items: items.iter().map(convert::queue_item).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn target_reports(
        &self,
        request: Request<pb::TargetRequest>,
    ) -> GrpcResult<pb::ReportList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let target = convert::target_from(request.into_inner().target)?;
            let reports = self.api.target_reports(&p, target).await?;
            Ok(pb::ReportList {
                reports: reports.iter().map(convert::report).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn assign(&self, request: Request<pb::AssignRequest>) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let target = convert::target_from(r.target)?;
            let assignee = convert::opt_id_arg(&r.assignee_id, "assignee_id")?;
            self.api.assign(&p, target, assignee).await?;
            Ok(pb::Empty {})
        };
        grpc_answer(result.await)
    }

    async fn escalate(&self, request: Request<pb::EscalateRequest>) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let target = convert::target_from(r.target)?;
            self.api.escalate(&p, target, &r.note).await?;
            Ok(pb::Empty {})
        };
        grpc_answer(result.await)
    }

    async fn dismiss(
        &self,
        request: Request<pb::DismissRequest>,
    ) -> GrpcResult<pb::DismissResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let target = convert::target_from(r.target)?;
            let dismissed = self.api.dismiss(&p, target, &r.note).await?;
            Ok(pb::DismissResponse { dismissed })
        };
        grpc_answer(result.await)
    }

    async fn take_action(&self, request: Request<pb::TakeActionRequest>) -> GrpcResult<pb::Action> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let new = convert::new_action_from(request.into_inner())?;
            self.api
                .take_action(&p, new)
                .await
                .map(|a| convert::action(&a))
        };
        grpc_answer(result.await)
    }

    async fn reverse_action(
        &self,
        request: Request<pb::ReverseActionRequest>,
    ) -> GrpcResult<pb::Action> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let id = convert::id_arg(&r.action_id, "action_id")?;
            self.api
                .reverse_action(&p, id, &r.note)
                .await
                .map(|a| convert::action(&a))
        };
        grpc_answer(result.await)
    }

    async fn pending_appeals(
        &self,
        request: Request<pb::PendingAppealsRequest>,
    ) -> GrpcResult<pb::AppealList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let appeals = self
                .api
                .pending_appeals(&p, request.into_inner().limit)
                .await?;
            Ok(pb::AppealList {
                appeals: appeals.iter().map(convert::appeal).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn decide_appeal(
        &self,
        request: Request<pb::DecideAppealRequest>,
    ) -> GrpcResult<pb::Appeal> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let id = convert::id_arg(&r.appeal_id, "appeal_id")?;
            self.api
                .decide_appeal(&p, id, r.grant, &r.note)
                .await
                .map(|a| convert::appeal(&a))
        };
        grpc_answer(result.await)
    }

    async fn audit(&self, request: Request<pb::AuditRequest>) -> GrpcResult<pb::AuditResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let query = AuditQuery {
                subject: (!r.subject.is_empty()).then_some(r.subject),
                before: convert::opt_id_arg(&r.before, "before")?,
                limit: Some(r.limit),
            };
            let entries = self.api.audit(&p, query).await?;
            Ok(pb::AuditResponse {
                entries: entries.iter().map(convert::audit_entry).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn rules(&self, request: Request<pb::RulesRequest>) -> GrpcResult<pb::RuleList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let rules = self.api.rules(&p).await?;
            Ok(pb::RuleList {
                rules: rules.iter().map(convert::rule).collect::<Result<_>>()?,
            })
        };
        grpc_answer(result.await)
    }

    async fn save_rule(&self, request: Request<pb::SaveRuleRequest>) -> GrpcResult<pb::Rule> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let draft = convert::draft_from(request.into_inner())?;
            convert::rule(&self.api.save_rule(&p, draft).await?)
        };
        grpc_answer(result.await)
    }

    async fn rule_history(
        &self,
        request: Request<pb::RuleHistoryRequest>,
    ) -> GrpcResult<pb::RuleList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let id = convert::id_arg(&request.into_inner().rule_id, "rule_id")?;
            let rules = self.api.rule_history(&p, id).await?;
            Ok(pb::RuleList {
                rules: rules.iter().map(convert::rule).collect::<Result<_>>()?,
            })
        };
        grpc_answer(result.await)
    }

    async fn check(&self, request: Request<pb::CheckRequest>) -> GrpcResult<pb::Verdict> {
        let result = async {
            let input = convert::check_input_from(request.into_inner())?;
            self.api.check(input).await.map(|v| convert::verdict(&v))
        };
        grpc_answer(result.await)
    }

    async fn hold(&self, request: Request<pb::HoldRequest>) -> GrpcResult<pb::Action> {
        let result = async {
            let r = request.into_inner();
            let target = convert::target_from(r.target)?;
            let subject = convert::id_arg(&r.subject_id, "subject_id")?;
            self.api
                .hold(target, subject, &r.reason)
                .await
                .map(|a| convert::action(&a))
        };
        grpc_answer(result.await)
    }

    async fn actions_in_force(
        &self,
        request: Request<pb::ActionsInForceRequest>,
    ) -> GrpcResult<pb::ActionList> {
        let result = async {
            let targets = request.into_inner().targets;
            cap("targets", targets.len(), MAX_TARGETS)?;
            let targets = targets
                .into_iter()
                .map(|t| convert::target_from(Some(t)))
                .collect::<Result<Vec<_>>>()?;
            let actions = self.api.actions_in_force(&targets).await?;
            Ok(pb::ActionList {
                actions: actions.iter().map(convert::action).collect(),
            })
        };
        grpc_answer(result.await)
    }
}
