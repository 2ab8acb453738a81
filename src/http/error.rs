//! One error type for the API. Every failure is JSON `{"error": {"code", "message"}}` with
//! the right status; 500s are logged and their details kept out of the response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{FreeTextError, Role, TextError};
use crate::service::appeals::AppealRefused;
use crate::service::labels::LabelsRefused;
use crate::service::models::RegistryError;
use crate::service::queue::InvalidQuery;
use crate::service::reports::ReportRefused;
use crate::service::retrain::RetrainRefused;
use crate::service::statements::{StatementRefused, UnknownGround};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    UnknownField(String),
    #[error("request body must be JSON, sent with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("request body is larger than the {0}-byte limit")]
    PayloadTooLarge(usize),
    #[error("text is empty")]
    EmptyText,
    #[error("text is {len} characters long; the limit is {max}")]
    TextTooLong { len: usize, max: usize },
    #[error("unknown target {target:?}; this model has stance models for: {known}")]
    UnknownTarget { target: String, known: String },
    #[error("this model has no stance model, so no target can be given")]
    NoStanceModel,
    #[error("unsupported language {0:?}; use \"fr\" or \"en\"")]
    InvalidLang(String),
    #[error("batch has {len} comments; the limit is {max}")]
    BatchTooLarge { len: usize, max: usize },
    #[error("batch is empty")]
    EmptyBatch,
    #[error("comments[{index}]: {source}")]
    Item {
        index: usize,
        #[source]
        source: Box<ApiError>,
    },
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("missing API key: send it as `Authorization: Bearer <key>`")]
    MissingKey,
    #[error("{0}")]
    BadSignature(String),
    #[error("unknown or revoked API key")]
    InvalidKey,
    #[error("this key's role is {have}; this route needs {need}")]
    Forbidden { have: Role, need: Role },
    #[error("no comment with id {0:?}")]
    CommentNotFound(String),
    #[error("no API key named {0:?}")]
    KeyNotFound(String),
    #[error("no registered model with id {0:?}; GET /v1/admin/models lists them")]
    ModelNotFound(String),
    #[error("no target named {0:?}; create it first with POST /v1/targets")]
    TargetNotFound(String),
    #[error("comment {0:?} is not restricted (published or approved), so it has no statement of reasons")]
    NoStatement(String),
    #[error("no appeal with id {0:?}")]
    AppealNotFound(String),
    #[error("no report with id {0:?}, or not for this token")]
    ReportNotFound(String),
    #[error("this route needs the comment's statement token as `?token=`")]
    MissingToken,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("model file refused, the previous model keeps serving: {0}")]
    ModelRejected(String),
    #[error("the database is unavailable; try again later")]
    DatabaseUnavailable(String),
    #[error("too many requests for this API key; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("too many reports from this address; retry in {retry_after_secs} s")]
    TooManyReports { retry_after_secs: u64 },
    #[error("the request did not complete within {} s", .0.as_secs_f64())]
    Timeout(std::time::Duration),
    #[error("no route for this path")]
    NotFound,
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<TextError> for ApiError {
    fn from(e: TextError) -> Self {
        match e {
            TextError::Empty => ApiError::EmptyText,
            TextError::TooLong { len, max } => ApiError::TextTooLong { len, max },
            TextError::Nul => ApiError::Invalid {
                code: "invalid_text",
                message: e.to_string(),
            },
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_json`, `text_too_long`, `unknown_target`, …
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        use ApiError::*;
        match self {
            InvalidJson(_) => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            InvalidRequest(_)
            | UnknownField(_)
            | EmptyText
            | TextTooLong { .. }
            | UnknownTarget { .. }
            | NoStanceModel
            | InvalidLang(_)
            | BatchTooLarge { .. }
            | EmptyBatch => StatusCode::UNPROCESSABLE_ENTITY,
            Item { source, .. } => source.status_code(),
            InvalidQuery(_) | Invalid { .. } | ModelRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            MissingKey | InvalidKey | BadSignature(_) => StatusCode::UNAUTHORIZED,
            Forbidden { .. } | MissingToken => StatusCode::FORBIDDEN,
            CommentNotFound(_) | KeyNotFound(_) | ModelNotFound(_) | TargetNotFound(_)
            | NoStatement(_) | AppealNotFound(_) | ReportNotFound(_) => StatusCode::NOT_FOUND,
            Conflict { .. } => StatusCode::CONFLICT,
            DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RateLimited { .. } | TooManyReports { .. } => StatusCode::TOO_MANY_REQUESTS,
            Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            InvalidJson(_) => "invalid_json",
            InvalidRequest(_) => "invalid_request",
            UnknownField(_) => "unknown_field",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge(_) => "payload_too_large",
            EmptyText => "empty_text",
            TextTooLong { .. } => "text_too_long",
            UnknownTarget { .. } | NoStanceModel => "unknown_target",
            InvalidLang(_) => "invalid_lang",
            BatchTooLarge { .. } => "batch_too_large",
            EmptyBatch => "empty_batch",
            Item { source, .. } => source.code(),
            InvalidQuery(_) => "invalid_query",
            Invalid { code, .. } | Conflict { code, .. } => code,
            MissingKey => "missing_key",
            BadSignature(_) => "invalid_signature",
            InvalidKey => "invalid_key",
            Forbidden { .. } => "forbidden",
            CommentNotFound(_) => "comment_not_found",
            KeyNotFound(_) => "key_not_found",
            ModelNotFound(_) => "model_not_found",
            TargetNotFound(_) => "target_not_found",
            NoStatement(_) => "no_statement",
            AppealNotFound(_) => "appeal_not_found",
            ReportNotFound(_) => "report_not_found",
            MissingToken => "missing_token",
            ModelRejected(_) => "model_rejected",
            DatabaseUnavailable(_) => "database_unavailable",
            RateLimited { .. } | TooManyReports { .. } => "rate_limited",
            Timeout(_) => "request_timeout",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            Internal(_) => "internal",
        }
    }

    /// The same error, located at item `index` of a batch.
    pub fn at(self, index: usize) -> ApiError {
        ApiError::Item {
            index,
            source: Box::new(self),
        }
    }
}

impl From<InvalidQuery> for ApiError {
    fn from(e: InvalidQuery) -> Self {
        ApiError::InvalidQuery(e.0)
    }
}

impl From<LabelsRefused> for ApiError {
    fn from(e: LabelsRefused) -> Self {
        match e {
            LabelsRefused::Invalid(e) => ApiError::Invalid {
                code: "invalid_labels",
                message: e.0,
            },
            LabelsRefused::Store(e) => e.into(),
        }
    }
}

impl From<crate::service::targets::TargetRefused> for ApiError {
    fn from(e: crate::service::targets::TargetRefused) -> Self {
        use crate::service::targets::TargetRefused::*;
        let invalid = |code, message| ApiError::Invalid { code, message };
        match e {
            InvalidName(m) => invalid("invalid_target_name", m),
            InvalidDescription(m) => invalid("invalid_description", m),
            InvalidArticles(m) => invalid("invalid_articles", m),
            Store(e) => e.into(),
        }
    }
}

impl From<crate::service::targets::SubmitRefused> for ApiError {
    fn from(e: crate::service::targets::SubmitRefused) -> Self {
        use crate::service::targets::SubmitRefused::*;
        match e {
            Score(e) => e.into(),
            Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => ApiError::CommentNotFound(id),
            StoreError::VersionConflict { current } => ApiError::Conflict {
                code: "version_conflict",
                message: format!("the comment changed since you read it: it is now at version {current}; reload it and decide again"),
            },
            StoreError::Claimed { by, until_ms } => ApiError::Conflict {
                code: "claimed",
                message: format!("{by} is reviewing this comment (lease until {})", crate::util::rfc3339(until_ms)),
            },
            StoreError::IdConflict(id) => ApiError::Conflict {
                code: "id_conflict",
                message: format!("id {id:?} was already used for a comment with another text, author, article or language"),
            },
            StoreError::KeyExists(name) => ApiError::Conflict {
                code: "key_exists",
                message: format!("a key named {name:?} already exists"),
            },
            StoreError::ModelConflict(id) => ApiError::Conflict {
                code: "model_conflict",
                message: format!("model id {id:?} is already registered for another file; a model's id names one file"),
            },
            StoreError::TargetExists(name) => ApiError::Conflict {
                code: "target_exists",
                message: format!("a target named {name:?} already exists"),
            },
            StoreError::TargetNotFound(name) => ApiError::TargetNotFound(name),
            StoreError::AppealNotFound(id) => ApiError::AppealNotFound(id.to_string()),
            e @ StoreError::AppealExists(_) => ApiError::Conflict {
                code: "already_appealed",
                message: e.to_string(),
            },
            e @ StoreError::AppealDecided(_) => ApiError::Conflict {
                code: "appeal_decided",
                message: e.to_string(),
            },
            e @ StoreError::SameModerator(_) => ApiError::Conflict {
                code: "same_moderator",
                message: e.to_string(),
            },
            e @ StoreError::AppealOvertaken(_) => ApiError::Conflict {
                code: "appeal_overtaken",
                message: e.to_string(),
            },
            StoreError::Unavailable(m) => ApiError::DatabaseUnavailable(m),
            StoreError::Other(m) => ApiError::Internal(anyhow::anyhow!(m)),
        }
    }
}

impl From<StatementRefused> for ApiError {
    fn from(e: StatementRefused) -> Self {
        match e {
            StatementRefused::NotFound(id) => ApiError::CommentNotFound(id),
            StatementRefused::NoStatement(id) => ApiError::NoStatement(id),
            StatementRefused::Store(e) => e.into(),
        }
    }
}

impl From<FreeTextError> for ApiError {
    fn from(e: FreeTextError) -> Self {
        let code = match e {
            FreeTextError::Empty(_) => "empty_text",
            FreeTextError::TooLong { .. } => "text_too_long",
            FreeTextError::Nul(_) => "invalid_text",
        };
        ApiError::Invalid {
            code,
            message: e.to_string(),
        }
    }
}

impl From<AppealRefused> for ApiError {
    fn from(e: AppealRefused) -> Self {
        match e {
            AppealRefused::Statement(e) => e.into(),
            AppealRefused::Text(e) => e.into(),
            AppealRefused::Store(e) => e.into(),
        }
    }
}

impl From<ReportRefused> for ApiError {
    fn from(e: ReportRefused) -> Self {
        match e {
            ReportRefused::NoReason(_) => ApiError::Invalid {
                code: "unknown_ground",
                message: e.to_string(),
            },
            ReportRefused::UnknownReason(e) => e.into(),
            ReportRefused::Text(e) => e.into(),
            ReportRefused::RateLimited(wait) => ApiError::TooManyReports {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            },
            ReportRefused::NotFound(id) => ApiError::ReportNotFound(id),
            ReportRefused::Store(e) => e.into(),
        }
    }
}

impl From<UnknownGround> for ApiError {
    fn from(e: UnknownGround) -> Self {
        ApiError::Invalid {
            code: "unknown_ground",
            message: e.to_string(),
        }
    }
}

impl From<RetrainRefused> for ApiError {
    fn from(e: RetrainRefused) -> Self {
        match e {
            RetrainRefused::Off => ApiError::Invalid {
                code: "retrain_off",
                message: e.to_string(),
            },
            RetrainRefused::Running(_) => ApiError::Conflict {
                code: "retrain_running",
                message: e.to_string(),
            },
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Unknown(id) => ApiError::ModelNotFound(id),
            RegistryError::Off | RegistryError::Rejected(_) => {
                ApiError::ModelRejected(e.to_string())
            }
            RegistryError::Store(e) => e.into(),
            RegistryError::Write { .. } | RegistryError::Internal(_) => {
                ApiError::Internal(anyhow::anyhow!(e.to_string()))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::DatabaseUnavailable(m) => tracing::warn!(error = %m, "database unavailable"),
            _ => {}
        }
        let unauthorized = matches!(self, ApiError::MissingKey | ApiError::InvalidKey);
        let refused_key = matches!(self, ApiError::InvalidKey);
        let retry_after = match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::TooManyReports { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        };
        let mut resp = (self.status_code(), axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if refused_key {
            resp.extensions_mut().insert(super::limits::KeyRefused);
        }
        if unauthorized {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
