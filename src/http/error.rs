//! One error type for the API. Every failure is JSON `{"error": {"code", "message"}}` with
//! the right status; 500s are logged and their details kept out of the response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::TextError;

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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        };
        (self.status_code(), axum::Json(body)).into_response()
    }
}
