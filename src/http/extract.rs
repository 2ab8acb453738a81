//! A JSON extractor whose rejections speak the API's error format, and the client's address.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

/// Like `axum::Json`, but a bad body becomes an [`ApiError`].
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonDataError(e) => {
                    let msg = e.body_text();
                    // body_text() reads "Failed to deserialize the JSON body into the target type: <path>: <serde message>".
                    let detail = msg
                        .split_once(": ")
                        .map_or(msg.as_str(), |(_, d)| d)
                        .to_owned();
                    if detail.contains("unknown field") {
                        ApiError::UnknownField(detail)
                    } else {
                        ApiError::InvalidRequest(detail)
                    }
                }
                JsonRejection::JsonSyntaxError(e) => {
                    let msg = e.body_text();
                    ApiError::InvalidJson(
                        msg.split_once(": ")
                            .map_or(msg.as_str(), |(_, d)| d)
                            .to_owned(),
                    )
                }
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge(limit.unwrap_or(0))
                }
                other => ApiError::InvalidRequest(other.body_text()),
            }),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The body limit in force, put in request extensions so rejections can name it.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Like `axum::extract::Query`, but a bad query string becomes an [`ApiError`].
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| {
                let msg = e.body_text();
                ApiError::InvalidQuery(
                    msg.split_once(": ")
                        .map_or(msg.as_str(), |(_, d)| d)
                        .to_owned(),
                )
            })
    }
}

/// The client's IP address, as the server accepted the connection; `unknown` in process
/// (a router called without a listener): the key a per-address rate limit counts under.
pub struct ClientAddress(pub String);

impl ClientAddress {
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        ClientAddress(peer.map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}
